/**
 * Detection mode: the model's boxes drawn over the image and listed beside it. The arrows or j/k
 * select a box, Space confirms it, `r` relabels it, `d` or Delete removes it (again: restores),
 * Shift+arrows move it and Alt+Shift+arrows resize it; dragging the selected box moves it, dragging
 * its edge or corner resizes it, dragging elsewhere on the image draws a box the model missed, then
 * asks its label; `c` sends every box left. Clicking a box selects it; each listed box has buttons
 * too, for a touch screen.
 */
import { element, typing, type ModeContext, type ReviewMode } from './mode.js';

type Box = [number, number, number, number];

export interface DetectedBox {
  label: string;
  score: number;
  box: Box;
}

export interface DetectElements {
  section: HTMLElement;
  objects: HTMLOListElement;
  svg: SVGSVGElement;
  form: HTMLFormElement;
  input: HTMLInputElement;
  known: HTMLDataListElement;
}

interface BoxState {
  label: string;
  box: Box;
  /** The model's score; null for a box the person drew. */
  score: number | null;
  removed: boolean;
  confirmed: boolean;
  item: HTMLLIElement;
  caption: HTMLSpanElement;
  rect: SVGRectElement;
  tag: SVGTextElement;
}

const SVG = 'http://www.w3.org/2000/svg';
/** A drag shorter than this many screen pixels is a click (select), not a box. */
const CLICK_PIXELS = 4;
/** How near (screen pixels) to a selected box's edge a drag resizes it rather than moves it. */
const HANDLE_PIXELS = 6;
/** The smallest side (image pixels) a resize leaves a box. */
const MIN_SIDE = 2;

interface Edges {
  left: boolean;
  top: boolean;
  right: boolean;
  bottom: boolean;
  /** The whole box follows the pointer. */
  move?: boolean;
}

export function detectionMode(ui: DetectElements, boxes: DetectedBox[], size: { width: number; height: number }, context: ModeContext): ReviewMode {
  const states: BoxState[] = [];
  let current = 0;
  let relabelling: BoxState | null = null;
  const known = new Set(boxes.map((box) => box.label));

  ui.objects.replaceChildren();
  ui.known.replaceChildren(...[...known].map((label) => element('option', '', { value: label })));
  ui.form.hidden = true;
  ui.section.hidden = false;
  boxes.forEach((box) => add(box.label, box.box, box.score));
  select(0);
  context.say(boxes.length === 0 ? 'The model found nothing: drag on the image to draw each object, then c sends.' : '');

  function add(label: string, box: Box, score: number | null): BoxState {
    const rect = document.createElementNS(SVG, 'rect');
    const tag = document.createElementNS(SVG, 'text');
    ui.svg.append(rect, tag);
    const item = element('li');
    const caption = element('span', '', { class: 'caption' });
    const buttons = [
      ['✓', 'confirm', () => confirm(state)],
      ['✎', 'relabel', () => relabel(state)],
      ['✕', 'delete', () => toggleRemoved(state)],
    ] as const;
    item.append(caption, ...buttons.map(([text, name, action]) => {
      const button = element('button', text, { type: 'button', 'aria-label': `${name} box` });
      button.addEventListener('click', () => {
        select(states.indexOf(state));
        action();
      });
      return button;
    }));
    item.addEventListener('click', (event) => {
      if ((event.target as HTMLElement).tagName !== 'BUTTON') select(states.indexOf(state));
    });
    ui.objects.append(item);
    const state: BoxState = { label, box, score, removed: false, confirmed: false, item, caption, rect, tag };
    states.push(state);
    draw(state);
    return state;
  }

  function draw(state: BoxState): void {
    const [x1, y1, x2, y2] = state.box;
    const n = states.indexOf(state) + 1;
    for (const [name, value] of Object.entries({ x: x1, y: y1, width: x2 - x1, height: y2 - y1 })) state.rect.setAttribute(name, String(value));
    state.tag.setAttribute('x', String(x1 + 3));
    state.tag.setAttribute('y', String(Math.max(y1 - 4, 12)));
    state.tag.textContent = `${n} ${state.label}`;
    const score = state.score === null ? 'drawn' : state.score.toFixed(2);
    state.caption.textContent = `${n}. ${state.label} · ${score}${state.removed ? ' · removed' : state.confirmed ? ' · confirmed' : ''}`;
    for (const target of [state.rect, state.item]) {
      target.classList.toggle('removed', state.removed);
      target.classList.toggle('confirmed', state.confirmed);
      target.classList.toggle('drawn', state.score === null);
    }
    state.item.setAttribute('aria-label', state.caption.textContent);
  }

  function select(index: number): void {
    if (states.length === 0) return;
    current = Math.min(states.length - 1, Math.max(0, index));
    states.forEach((state, i) => {
      state.rect.classList.toggle('current', i === current);
      state.item.classList.toggle('current', i === current);
      state.item.setAttribute('aria-current', String(i === current));
    });
    states[current].item.scrollIntoView({ block: 'nearest' });
  }

  function confirm(state: BoxState): void {
    state.confirmed = true;
    state.removed = false;
    draw(state);
    select(states.indexOf(state) + 1);
  }

  function toggleRemoved(state: BoxState): void {
    state.removed = !state.removed;
    state.confirmed = false;
    draw(state);
  }

  function relabel(state: BoxState): void {
    relabelling = state;
    ui.form.hidden = false;
    ui.input.value = state.label;
    ui.input.focus();
    ui.input.select();
  }

  function endRelabel(keep: boolean): void {
    const state = relabelling;
    if (state === null) return;
    const label = ui.input.value.trim();
    if (keep && label !== '') {
      state.label = label;
      if (!known.has(label)) {
        known.add(label);
        ui.known.append(element('option', '', { value: label }));
      }
    }
    // A drawn box that never got a label is dropped: every box sent carries one.
    if (state.label === '') {
      states.splice(states.indexOf(state), 1);
      state.rect.remove();
      state.tag.remove();
      state.item.remove();
      states.forEach(draw);
    } else draw(state);
    relabelling = null;
    ui.form.hidden = true;
    ui.input.blur();
    select(Math.min(current, states.length - 1));
  }

  ui.form.onsubmit = (event) => {
    event.preventDefault();
    endRelabel(true);
  };

  /** From a pointer position to the image's pixels (the SVG is stretched over the image). */
  function toImage(event: PointerEvent): [number, number] {
    const bounds = ui.svg.getBoundingClientRect();
    const x = ((event.clientX - bounds.left) / bounds.width) * size.width;
    const y = ((event.clientY - bounds.top) / bounds.height) * size.height;
    return [Math.min(size.width, Math.max(0, x)), Math.min(size.height, Math.max(0, y))];
  }

  /** What the pointer grabbed of the selected box: its inside (move) or the edges within reach (resize). */
  function grab(state: BoxState | undefined, [x, y]: [number, number]): Edges | null {
    if (state === undefined || state.removed) return null;
    const reach = (HANDLE_PIXELS / ui.svg.getBoundingClientRect().width) * size.width;
    const [x1, y1, x2, y2] = state.box;
    if (x < x1 - reach || x > x2 + reach || y < y1 - reach || y > y2 + reach) return null;
    const edges = { left: Math.abs(x - x1) <= reach, top: Math.abs(y - y1) <= reach, right: Math.abs(x - x2) <= reach, bottom: Math.abs(y - y2) <= reach };
    const resizing = edges.left || edges.top || edges.right || edges.bottom;
    return resizing ? edges : x > x1 && x < x2 && y > y1 && y < y2 ? { left: true, top: true, right: true, bottom: true, move: true } : null;
  }

  /** The box as `grabbed` from `before`, the pointer moved by (dx, dy) image pixels, kept inside the image. */
  function moved(before: Box, grabbed: Edges, dx: number, dy: number): Box {
    let [x1, y1, x2, y2] = before;
    if (grabbed.move === true) {
      const shiftX = Math.min(size.width - x2, Math.max(-x1, dx));
      const shiftY = Math.min(size.height - y2, Math.max(-y1, dy));
      return [x1 + shiftX, y1 + shiftY, x2 + shiftX, y2 + shiftY].map(Math.round) as Box;
    }
    if (grabbed.left) x1 = Math.min(x2 - MIN_SIDE, Math.max(0, x1 + dx));
    if (grabbed.right) x2 = Math.max(x1 + MIN_SIDE, Math.min(size.width, x2 + dx));
    if (grabbed.top) y1 = Math.min(y2 - MIN_SIDE, Math.max(0, y1 + dy));
    if (grabbed.bottom) y2 = Math.max(y1 + MIN_SIDE, Math.min(size.height, y2 + dy));
    return [x1, y1, x2, y2].map(Math.round) as Box;
  }

  let drag: { from: [number, number]; screen: [number, number]; ghost: SVGRectElement | null; grabbed: { state: BoxState; edges: Edges; before: Box } | null } | null = null;
  ui.svg.onpointerdown = (event) => {
    if (relabelling !== null) return;
    event.preventDefault();
    ui.svg.setPointerCapture(event.pointerId);
    const from = toImage(event);
    const state = states[current];
    const edges = grab(state, from);
    if (edges !== null) {
      drag = { from, screen: [event.clientX, event.clientY], ghost: null, grabbed: { state, edges, before: state.box } };
      return;
    }
    const ghost = document.createElementNS(SVG, 'rect');
    ghost.classList.add('ghost');
    ui.svg.append(ghost);
    drag = { from, screen: [event.clientX, event.clientY], ghost, grabbed: null };
  };
  ui.svg.onpointermove = (event) => {
    if (drag === null) {
      const edges = grab(states[current], toImage(event));
      ui.svg.style.cursor = edges === null ? 'crosshair' : edges.move === true ? 'move' : 'nwse-resize';
      return;
    }
    const [x, y] = toImage(event);
    const [fx, fy] = drag.from;
    if (drag.grabbed !== null) {
      drag.grabbed.state.box = moved(drag.grabbed.before, drag.grabbed.edges, x - fx, y - fy);
      draw(drag.grabbed.state);
      return;
    }
    for (const [name, value] of Object.entries({ x: Math.min(x, fx), y: Math.min(y, fy), width: Math.abs(x - fx), height: Math.abs(y - fy) })) drag.ghost?.setAttribute(name, String(value));
  };
  ui.svg.onpointerup = (event) => {
    if (drag === null) return;
    const { from, screen, ghost, grabbed } = drag;
    drag = null;
    ghost?.remove();
    const to = toImage(event);
    const click = Math.hypot(event.clientX - screen[0], event.clientY - screen[1]) < CLICK_PIXELS;
    if (grabbed !== null) {
      if (click) grabbed.state.box = grabbed.before;
      else grabbed.state.confirmed = false;
      draw(grabbed.state);
      return;
    }
    if (click) {
      const hit = states.findIndex((state) => to[0] >= state.box[0] && to[0] <= state.box[2] && to[1] >= state.box[1] && to[1] <= state.box[3]);
      if (hit >= 0) select(hit);
      return;
    }
    const box: Box = [Math.round(Math.min(from[0], to[0])), Math.round(Math.min(from[1], to[1])), Math.round(Math.max(from[0], to[0])), Math.round(Math.max(from[1], to[1]))];
    if (box[2] - box[0] < 2 || box[3] - box[1] < 2) return;
    const drawn = add('', box, null);
    select(states.length - 1);
    relabel(drawn);
    ui.input.value = states[0]?.label ?? '';
    ui.input.select();
    context.say('Type the label of the box you drew, then Enter (Esc drops it).');
  };

  /** Shift+arrow moves the selected box by a hundredth of the image; Alt+Shift+arrow grows or shrinks its right or bottom edge. */
  function nudge(state: BoxState, key: string, resize: boolean): void {
    const step = Math.max(1, Math.round(Math.max(size.width, size.height) / 100));
    const [dx, dy] = ({ ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] } as Record<string, [number, number]>)[key];
    const edges: Edges = resize ? { left: false, top: false, right: dx !== 0, bottom: dy !== 0 } : { left: true, top: true, right: true, bottom: true, move: true };
    state.box = moved(state.box, edges, dx, dy);
    state.confirmed = false;
    draw(state);
  }

  function submit(): void {
    context.send({ boxes: states.filter((s) => !s.removed).map((s) => ({ label: s.label, box: s.box })) });
  }

  return {
    submit,
    onKey(event) {
      if (relabelling !== null || typing(event)) {
        if (event.key === 'Escape') endRelabel(false);
        return true;
      }
      const state = states[current];
      if (event.shiftKey && event.key.startsWith('Arrow')) {
        event.preventDefault();
        if (state !== undefined && !state.removed) nudge(state, event.key, event.altKey);
        return true;
      }
      const actions: Record<string, () => void> = {
        ArrowDown: () => select(current + 1),
        ArrowRight: () => select(current + 1),
        j: () => select(current + 1),
        ArrowUp: () => select(current - 1),
        ArrowLeft: () => select(current - 1),
        k: () => select(current - 1),
        ' ': () => state !== undefined && confirm(state),
        r: () => state !== undefined && !state.removed && relabel(state),
        d: () => state !== undefined && toggleRemoved(state),
        Delete: () => state !== undefined && toggleRemoved(state),
        Backspace: () => state !== undefined && toggleRemoved(state),
        c: submit,
      };
      const action = actions[event.key];
      if (action === undefined) return false;
      event.preventDefault();
      action();
      return true;
    },
  };
}
