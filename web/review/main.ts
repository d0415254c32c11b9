/**
 * The review page: claim a task, look at the page and each line's crop beside what the model
 * read, fix text in place, answer; all from the keyboard. Everything a model or a person wrote
 * is put on the page with textContent or attributes, never parsed as HTML.
 */
import { forgetKey, keyHeaders, rememberKey } from '../shared/api-key.js';
import { classificationMode, type LabelScore } from './classify.js';
import { detectionMode, type DetectedBox } from './detect.js';
import type { ReviewMode } from './mode.js';
import './style.css';

interface Line {
  text: string;
  confidence: number;
  box: [number, number][];
}

interface Task {
  id: string;
  kind: 'review' | 'audit';
  modelVersion: string;
  /** `labels` on classification tasks, `boxes` on detection tasks; `lines` on documents (empty on the others). */
  modelOutput: { lines: Line[]; labels?: LabelScore[]; boxes?: DetectedBox[]; width: number; height: number };
  image: { url: string; width: number; height: number };
  claim: { expiresAt: string } | null;
  prediction: { reasons: { message: string }[] } | null;
}

interface LineState {
  index: number;
  line: Line;
  text: string;
  removed: boolean;
  item: HTMLLIElement;
  textNode: HTMLSpanElement;
  polygon: SVGPolygonElement;
}

/** Lines under this confidence are marked: the default review threshold. */
const LOW_CONFIDENCE = 0.93;
const SVG = 'http://www.w3.org/2000/svg';

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  pending: byId('pending'),
  taskInfo: byId('task-info'),
  message: byId('message'),
  login: byId<HTMLFormElement>('login'),
  key: byId<HTMLInputElement>('key'),
  empty: byId('empty'),
  page: byId('page'),
  image: byId<HTMLImageElement>('image'),
  boxes: document.getElementById('boxes') as unknown as SVGSVGElement,
  task: byId('task'),
  lines: byId<HTMLOListElement>('lines'),
  unusable: byId<HTMLFormElement>('unusable'),
  reason: byId<HTMLInputElement>('reason'),
  classify: { section: byId('classify'), candidates: byId<HTMLOListElement>('candidates'), form: byId<HTMLFormElement>('new-label'), input: byId<HTMLInputElement>('label-input'), known: byId<HTMLDataListElement>('known-labels') },
  detect: { section: byId('detect'), objects: byId<HTMLOListElement>('objects'), form: byId<HTMLFormElement>('relabel'), input: byId<HTMLInputElement>('box-label'), known: byId<HTMLDataListElement>('box-labels') },
  sendBoxes: byId<HTMLButtonElement>('send-boxes'),
  keys: { document: byId('keys'), classify: byId('keys-classify'), detect: byId('keys-detect') },
};

let task: Task | null = null;
let states: LineState[] = [];
let current = 0;
let editing: HTMLInputElement | null = null;
let busy = false;
let imageUrl: string | null = null;
/** The mode of a classification or detection task; null for documents. */
let mode: ReviewMode | null = null;

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  const headers = keyHeaders();
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'omit' });
  if (response.ok) return response;
  const error = (await response.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
  throw new ApiError(response.status, error?.error?.code ?? 'INTERNAL', error?.error?.message ?? `${method} ${path} answered ${response.status}`);
}

function say(text: string): void {
  ui.message.textContent = text;
}

function showOnly(...visible: HTMLElement[]): void {
  for (const element of [ui.login, ui.empty, ui.page, ui.task, ui.classify.section, ui.detect.section]) element.hidden = !visible.includes(element);
}

async function refreshPending(): Promise<void> {
  const stats = (await (await api('GET', '/v1/reviews/stats')).json()) as { tasks: { pending: number } };
  ui.pending.textContent = String(stats.tasks.pending);
}

async function run(work: () => Promise<void>): Promise<void> {
  if (busy) return;
  busy = true;
  try {
    await work();
  } catch (error) {
    // No key, an unknown one, or one without the review scope: ask for another.
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      forgetKey();
      showOnly(ui.login);
      ui.key.focus();
    }
    say(error instanceof ApiError ? `${error.code}: ${error.message}` : String(error));
  } finally {
    busy = false;
  }
}

async function claimNext(): Promise<void> {
  const response = await api('POST', '/v1/reviews/claim');
  await refreshPending();
  if (response.status === 204) {
    task = null;
    mode = null;
    ui.taskInfo.textContent = '';
    showOnly(ui.empty);
    return;
  }
  task = (await response.json()) as Task;
  await showTask(task);
}

async function showTask(shown: Task): Promise<void> {
  const blob = await (await api('GET', shown.image.url)).blob();
  if (imageUrl !== null) URL.revokeObjectURL(imageUrl);
  imageUrl = URL.createObjectURL(blob);
  ui.image.src = imageUrl;
  await ui.image.decode();

  const expires = shown.claim === null ? '' : `, yours until ${new Date(shown.claim.expiresAt).toLocaleTimeString()}`;
  ui.taskInfo.textContent = `${shown.kind === 'audit' ? 'audit sample' : 'review'} ${shown.id.slice(-8)}${expires}`;
  ui.boxes.setAttribute('viewBox', `0 0 ${shown.image.width} ${shown.image.height}`);
  ui.boxes.replaceChildren();
  ui.lines.replaceChildren();
  ui.unusable.hidden = true;
  mode = null;
  ui.boxes.onpointerdown = ui.boxes.onpointermove = ui.boxes.onpointerup = null;
  const { labels, boxes } = shown.modelOutput;
  const kind = labels !== undefined ? 'classify' : boxes !== undefined ? 'detect' : 'document';
  ui.page.classList.toggle('drawable', kind === 'detect');
  ui.image.alt = kind === 'document' ? 'the page under review' : 'the image under review';
  for (const [name, hint] of Object.entries(ui.keys)) hint.hidden = name !== kind;
  const context = { send: (body: unknown) => void run(() => submit(body)), say };
  if (labels !== undefined) {
    states = [];
    showOnly(ui.page, ui.task, ui.classify.section);
    say('');
    mode = classificationMode(ui.classify, labels, context);
    return;
  }
  if (boxes !== undefined) {
    states = [];
    showOnly(ui.page, ui.task, ui.detect.section);
    say('');
    mode = detectionMode({ ...ui.detect, svg: ui.boxes }, boxes, shown.image, context);
    return;
  }
  // The least confident lines first: they are the likeliest to need a fix.
  const order = shown.modelOutput.lines.map((line, index) => ({ line, index })).sort((a, b) => a.line.confidence - b.line.confidence);
  states = order.map(({ line, index }) => lineState(line, index));
  current = 0;
  showOnly(ui.page, ui.task);
  select(0);
  say(states.length === 0 ? 'The model found no text: c confirms, u marks the image unusable.' : '');
}

function lineState(line: Line, index: number): LineState {
  const polygon = document.createElementNS(SVG, 'polygon');
  polygon.setAttribute('points', line.box.map(([x, y]) => `${x},${y}`).join(' '));
  ui.boxes.append(polygon);

  const item = document.createElement('li');
  item.dataset.index = String(index);
  const textNode = document.createElement('span');
  textNode.className = 'text';
  textNode.textContent = line.text;
  const confidence = document.createElement('span');
  confidence.className = line.confidence < LOW_CONFIDENCE ? 'confidence low' : 'confidence';
  confidence.textContent = `line ${index + 1} · ${line.confidence.toFixed(3)}`;
  item.append(cropOf(line.box), textNode, confidence);
  ui.lines.append(item);
  return { index, line, text: line.text, removed: false, item, textNode, polygon };
}

/** The line's bounding rectangle cut from the page, at most 600 px wide. */
function cropOf(box: [number, number][]): HTMLCanvasElement {
  const xs = box.map(([x]) => x);
  const ys = box.map(([, y]) => y);
  const left = Math.max(0, Math.floor(Math.min(...xs)));
  const top = Math.max(0, Math.floor(Math.min(...ys)));
  const width = Math.max(1, Math.ceil(Math.max(...xs)) - left);
  const height = Math.max(1, Math.ceil(Math.max(...ys)) - top);
  const scale = Math.min(1, 600 / width);
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(width * scale);
  canvas.height = Math.max(1, Math.round(height * scale));
  canvas.getContext('2d')?.drawImage(ui.image, left, top, width, height, 0, 0, canvas.width, canvas.height);
  return canvas;
}

function select(position: number): void {
  if (states.length === 0) return;
  current = Math.min(states.length - 1, Math.max(0, position));
  for (const [i, state] of states.entries()) {
    state.item.classList.toggle('current', i === current);
    state.polygon.classList.toggle('current', i === current);
  }
  states[current].item.scrollIntoView({ block: 'nearest' });
}

function startEdit(): void {
  const state = states[current];
  if (state === undefined || state.removed) return;
  const input = document.createElement('input');
  input.value = state.text;
  input.setAttribute('aria-label', `text of line ${state.index + 1}`);
  state.textNode.replaceWith(input);
  editing = input;
  input.focus();
  input.select();
}

function finishEdit(keep: boolean): void {
  const input = editing;
  const state = states[current];
  if (input === null || state === undefined) return;
  if (keep) state.text = input.value;
  state.textNode.textContent = state.text;
  input.replaceWith(state.textNode);
  editing = null;
  state.item.classList.toggle('changed', state.text !== state.line.text);
}

function toggleRemoved(): void {
  const state = states[current];
  if (state === undefined) return;
  state.removed = !state.removed;
  state.item.classList.toggle('removed', state.removed);
  state.polygon.classList.toggle('removed', state.removed);
}

async function submit(body: unknown): Promise<void> {
  if (task === null) return;
  await api('POST', `/v1/reviews/${task.id}/answer`, body);
  say(`Answer kept for ${task.id.slice(-8)}.`);
  await claimNext();
}

function confirmOrCorrect(): Promise<void> {
  const lines = states.filter((state) => !state.removed && state.text !== state.line.text).map((state) => ({ index: state.index, text: state.text }));
  const removed = states.filter((state) => state.removed).map((state) => state.index);
  if (lines.length === 0 && removed.length === 0) return submit({ verdict: 'confirm' });
  return submit({ verdict: 'correct', lines, removed });
}

function onKey(event: KeyboardEvent): void {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (editing !== null) {
    if (event.key === 'Enter' || event.key === 'Escape') {
      event.preventDefault();
      finishEdit(event.key === 'Enter');
    }
    return;
  }
  if (!ui.unusable.hidden) {
    if (event.key === 'Escape') {
      ui.unusable.hidden = true;
      ui.reason.blur();
    }
    return;
  }
  if (!ui.login.hidden) return;
  if (mode !== null && mode.onKey(event)) return;
  const actions: Record<string, () => void> = {
    j: () => select(current + 1),
    ArrowDown: () => select(current + 1),
    k: () => select(current - 1),
    ArrowUp: () => select(current - 1),
    e: startEdit,
    Enter: startEdit,
    d: toggleRemoved,
    c: () => void run(confirmOrCorrect),
    u: () => {
      if (task === null) return;
      ui.unusable.hidden = false;
      ui.reason.focus();
      ui.reason.select();
    },
    n: () => void run(claimNext),
  };
  const action = actions[event.key];
  if (action === undefined || (task === null && event.key !== 'n')) return;
  event.preventDefault();
  action();
}

ui.unusable.addEventListener('submit', (event) => {
  event.preventDefault();
  const reason = ui.reason.value.trim();
  if (reason === '') return;
  ui.unusable.hidden = true;
  void run(() => submit({ verdict: 'unusable', reason }));
});

ui.login.addEventListener('submit', (event) => {
  event.preventDefault();
  rememberKey(ui.key.value);
  ui.key.value = '';
  void run(claimNext);
});

/** How often the waiting count is refreshed between answers. */
const PENDING_REFRESH_MS = 15_000;

document.addEventListener('keydown', onKey);
ui.sendBoxes.addEventListener('click', () => mode?.submit());
void run(claimNext);
setInterval(() => {
  if (ui.login.hidden) refreshPending().catch(() => undefined);
}, PENDING_REFRESH_MS);
