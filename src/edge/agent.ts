import { createHash } from 'node:crypto';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import { backoffDelay, worthRetrying, type BackoffSettings } from '../core/edge/backoff.js';
import { DOWNSCALED_LONG_SIDE, POLICY_PLANS, sentWithoutDetector, type DeviceStage, type EdgePolicy, type Sent } from '../core/edge/policy.js';
import type { EdgeRoute } from '../core/edge/route.js';
import { isVisionopsError } from '../core/errors.js';
import type { Frame } from '../core/frame.js';
import type { Quad } from '../core/postprocess/geometry.js';
import type { LineReading } from '../core/postprocess/recognition.js';
import { hammingDistance } from '../core/hash/perceptual.js';
import type { QualityReport } from '../core/quality/types.js';
import { imagesIn } from '../cli/files.js';
import type { DecodeSize } from '../image/ingest.js';
import type { StageRunner } from '../pipeline/runner.js';
import type { FolderOutbox, OutboxItem } from './outbox.js';
import { regionsPayload, type NodeTextDetector, type NodeTextReader } from './regions.js';
import { followDeployment, upload, type CloudTarget } from './upload.js';

/** What the agent decided for one watched file, written next to it as `<file>.visionops.json` and logged. */
export type FileOutcome =
  | { outcome: 'rejected'; verdict: 'fail'; guidance: string[] }
  | { outcome: 'duplicate' | 'unchanged'; of: string; distance: number }
  | { outcome: 'unreadable'; code: string; message: string }
  /** `read`: under `device`, the text read on the device, as the record will print it. */
  | { outcome: 'queued'; key: string; sent: Sent; sentBytes: number; crops?: number; read?: string[]; detectionFailed?: string }
  /** `decision` null: recorded before from what the agent sent then, which the cloud's answer does not describe (see `UploadOutcome`). */
  | { outcome: 'recorded'; key: string; id: string; decision: string | null; replayed: boolean }
  | { outcome: 'refused'; key: string; status: number | null; message: string };

/** The gate as the agent runs it: the server's own ingest and gate (a StageRunner stopped at the gate), with the frame it decoded (RGB, upright, full resolution). */
export type LocalGate = (bytes: Uint8Array) => Promise<{ quality: QualityReport; phash: string; frame: Frame }>;

/** The agent's gate from a stage runner: ingest (limits, EXIF orientation) and the gate, one decode whose frame the crops are cut from. */
export function runnerGate(runner: StageRunner, decode: DecodeSize = 'full'): LocalGate {
  return async (bytes) => {
    const { quality, image } = await runner.run(bytes, { until: 'gate', decode });
    return { quality, phash: image.phash, frame: image.frame };
  };
}

export interface AgentSettings {
  watch: string;
  policy: EdgePolicy;
  cloud: CloudTarget;
  backoff: BackoffSettings;
  /** A capture within this many bits of perceptual hash of one forwarded recently is dropped. */
  duplicateDistance: number;
  /** How many forwarded captures the duplicate check remembers. */
  duplicateWindow: number;
  /** A file modified more recently than this is still being written and waits for the next scan. */
  settleMs: number;
  /** The most text lines sent as crops (the cloud's `edge.regions.maxCrops`): a capture with more goes as the page. */
  maxCrops: number;
}

export const SIDECAR_SUFFIX = '.visionops.json';

/** The stages a capture read on the device went through beyond the plan's (the route's `device`, as the capture page states them). */
const READ_ON_DEVICE: DeviceStage[] = ['orientation', 'detection', 'recognition'];

/** An image upload's Content-Type: the server tells the format from the bytes. */
const IMAGE_CONTENT_TYPE = 'application/octet-stream';

/** A capture's text lines in `frame` (the upright frame they are cut from), with their readings and rows when read on the device. */
interface FoundLines {
  frame: Frame;
  boxes: Quad[];
  readings?: LineReading[];
  rows?: string[];
}

/** One capture as it will be sent. */
interface Prepared {
  key: string;
  sent: Sent;
  payload: Uint8Array;
  contentType: string;
  /** How many text lines, when crops are sent. */
  crops?: number;
  /** The rows read on the device, when the crops carry their readings (policy `device`). */
  read?: string[];
  /** Why the detector could not give crops, when it failed. */
  detectionFailed?: string;
}

/** What the agent has done since it started; bytes compare sending every original with what it sent. */
export interface AgentReport {
  files: number;
  rejected: number;
  duplicates: number;
  unreadable: number;
  queued: number;
  recorded: number;
  replayed: number;
  refused: number;
  waiting: number;
  /** Queued captures by what was sent for them: under `hybrid`, crops, or the page where no text was found. */
  sentAs: Record<Sent, number>;
  originalBytes: number;
  sentBytes: number;
  savedBytes: number;
}

export interface AgentEvent {
  file: string;
  result: FileOutcome;
}

/**
 * The edge agent for camera boxes and scanners (`visionops edge`). Each new file in the watched
 * folder is gated locally (unusable ones answered at once with the gate's guidance), dropped when it
 * is a near-duplicate of a recent capture, and otherwise queued in the outbox as the policy says
 * (the original, or a downscaled copy); `drain` sends what is due, with its Idempotency-Key, and
 * backs off while the cloud is away. Each file's outcome is written beside it, so a restarted
 * agent skips what it has done; a capture it queued but had not marked is queued again under the
 * same key, which the outbox and the server both answer once.
 */
export class EdgeAgent {
  /** The captures forwarded last, oldest first: kept in the outbox folder, so a restarted agent still knows the scene it left (null until recalled). */
  private recent: Remembered[] | null = null;
  private readonly stats: Omit<AgentReport, 'waiting' | 'savedBytes'> = {
    files: 0, rejected: 0, duplicates: 0, unreadable: 0, queued: 0, recorded: 0, replayed: 0, refused: 0, sentAs: { original: 0, downscaled: 0, crops: 0 }, originalBytes: 0, sentBytes: 0,
  };
  private draining: Promise<number> | null = null;
  private drainNext: Promise<number> | null = null;
  /** The policy followed: the configured one, narrowed to the deployment's when the cloud refuses what it sends. */
  private policy: EdgePolicy;
  private readonly startedAt: number;

  constructor(
    private readonly settings: AgentSettings,
    private readonly gate: LocalGate,
    /** The built-in text detector, for a policy that sends crops; null without one (the page is sent). */
    private readonly findText: NodeTextDetector | null,
    /** The built-in models reading the crops, for a policy that reads on the device; null without them (the cloud reads). */
    private readonly readText: NodeTextReader | null,
    private readonly outbox: FolderOutbox,
    private readonly log: (event: AgentEvent) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.policy = settings.policy;
    this.startedAt = now();
  }

  /** Takes every settled file of the watched folder that has no outcome yet; returns how many. */
  async scan(): Promise<number> {
    this.recent ??= rememberedOf(await this.outbox.recall(RECENT_STATE));
    let taken = 0;
    for (const file of await imagesIn(this.settings.watch)) {
      if (await exists(`${file}${SIDECAR_SUFFIX}`)) continue;
      const info = await stat(file).catch(() => null);
      if (info === null || this.now() - info.mtimeMs < this.settings.settleMs) continue;
      const outcome = await this.take(file);
      if (outcome === null) break;
      taken++;
      // Sent while the next capture is gated and its text found: an upload waits for no detector but its own.
      // A failure here (the outbox folder unreadable) recurs in the caller's own drain, which reports it.
      if (outcome.outcome === 'queued' && POLICY_PLANS[this.policy].immediate) void this.drain().catch(() => undefined);
    }
    return taken;
  }

  /**
   * Sends the due uploads in the order they were queued; stops at the first the cloud could not
   * take (it is away or busy: the rest would fail alike), which waits out its backoff. Returns how
   * many still wait. One drain runs at a time: a call during one is answered by the next, which
   * starts when it ends and sees what was queued meanwhile.
   */
  drain(): Promise<number> {
    if (this.drainNext !== null) return this.drainNext;
    if (this.draining !== null) {
      const next = () => {
        this.drainNext = null;
        return this.drain();
      };
      this.drainNext = this.draining.then(next, next);
      return this.drainNext;
    }
    this.draining = this.drainOnce().finally(() => (this.draining = null));
    return this.draining;
  }

  private async drainOnce(): Promise<number> {
    const items = (await this.outbox.items()).sort((a, b) => a.queuedAt - b.queuedAt);
    let left = items.length;
    for (const item of items) {
      if (item.notBefore > this.now()) continue;
      const outcome = await upload(this.settings.cloud, item, await this.outbox.payload(item.key));
      if (outcome.ok) {
        await this.settle(item, { outcome: 'recorded', key: item.key, id: outcome.record.id, decision: outcome.record.decision, replayed: outcome.replayed });
        this.stats.recorded++;
        if (outcome.replayed) this.stats.replayed++;
        left--;
      } else if (outcome.code === 'POLICY_FORBIDS_ORIGINAL' && (await this.narrowToDeployment())) {
        // Queued before the agent knew the deployment's policy: taken again under it, and sent in the next pass.
        if ((await this.retake(item)) === null) {
          await this.settle(item, { outcome: 'refused', key: item.key, status: outcome.status, message: `${outcome.message} (the file is gone: it cannot be sent otherwise)` });
          this.stats.refused++;
          left--;
        }
      } else if (worthRetrying(outcome.status) || outcome.code === 'POLICY_FORBIDS_ORIGINAL') {
        // A refused original is kept too when the cloud went before it said its policy.
        const attempts = item.attempts + 1;
        await this.outbox.update({ ...item, attempts, notBefore: this.now() + backoffDelay(attempts, this.settings.backoff) });
        break;
      } else {
        await this.settle(item, { outcome: 'refused', key: item.key, status: outcome.status, message: outcome.message });
        this.stats.refused++;
        left--;
      }
    }
    return left;
  }

  /** Narrows the policy to what the deployment allows, when the cloud refuses an original; false when the cloud does not say its policy. */
  private async narrowToDeployment(): Promise<boolean> {
    const followed = await followDeployment(this.settings.cloud, this.policy);
    if (followed === null) return false;
    this.policy = followed.policy;
    return true;
  }

  /** A queued capture taken again from its file under the policy now followed (same key); null when the file is gone. */
  private async retake(item: OutboxItem): Promise<FileOutcome | null> {
    if (!(await exists(item.file))) return null;
    await this.outbox.remove(item.key);
    if (item.queuedAt >= this.startedAt) {
      // Counted when this run queued it: counted again by the new take.
      this.stats.files--;
      this.stats.queued--;
      this.stats.sentAs[item.route.sent]--;
      this.stats.originalBytes -= item.originalBytes;
      this.stats.sentBytes -= item.sentBytes;
    }
    return this.take(item.file);
  }

  /** Milliseconds until the earliest waiting upload is due (0 when one is), or null when none waits. */
  async nextDueIn(): Promise<number | null> {
    const items = await this.outbox.items();
    if (items.length === 0) return null;
    return Math.max(0, Math.min(...items.map((item) => item.notBefore)) - this.now());
  }

  async report(): Promise<AgentReport> {
    const waiting = (await this.outbox.items()).length;
    return { ...this.stats, sentAs: { ...this.stats.sentAs }, waiting, savedBytes: this.stats.originalBytes - this.stats.sentBytes };
  }

  /** One file's way through the agent; null when the outbox is full (the file waits for a later scan). */
  private async take(file: string): Promise<FileOutcome | null> {
    const bytes = new Uint8Array(await readFile(file));
    const plan = POLICY_PLANS[this.policy];
    let gated: Awaited<ReturnType<LocalGate>>;
    try {
      gated = await this.gate(bytes);
    } catch (error) {
      if (!isVisionopsError(error)) throw error;
      this.stats.unreadable++;
      return this.finish(file, bytes.length, { outcome: 'unreadable', code: error.code, message: error.message });
    }
    if (plan.gateRefuses && gated.quality.verdict === 'fail') {
      this.stats.rejected++;
      return this.finish(file, bytes.length, { outcome: 'rejected', verdict: 'fail', guidance: gated.quality.guidance });
    }
    if (plan.device.includes('duplicates')) {
      const duplicate = this.nearest(file, gated.phash);
      if (duplicate !== null) {
        this.stats.duplicates++;
        return this.finish(file, bytes.length, duplicate);
      }
    }
    const prepared = await this.prepare(bytes, gated.frame, plan.sent);
    const read = prepared.read !== undefined && this.readText !== null ? { models: this.readText.models } : null;
    const device: DeviceStage[] = read !== null ? [...plan.device, ...READ_ON_DEVICE] : prepared.sent === 'crops' ? [...plan.device, 'detection'] : plan.device;
    const route: EdgeRoute = {
      policy: this.policy,
      client: 'agent',
      device,
      sent: prepared.sent,
      deviceVerdict: gated.quality.verdict,
      capturedAt: new Date((await stat(file)).mtimeMs).toISOString(),
      ...(read === null ? {} : { models: read.models }),
    };
    const now = this.now();
    const { payload } = prepared;
    const item: OutboxItem = { key: prepared.key, file, route, contentType: prepared.contentType, originalBytes: bytes.length, sentBytes: payload.length, attempts: 0, notBefore: plan.immediate ? now : now + this.settings.backoff.maxMs, queuedAt: now };
    try {
      await this.outbox.add(item, payload);
    } catch (error) {
      if (isVisionopsError(error) && error.code === 'OUTBOX_FULL') return null;
      throw error;
    }
    await this.remember(file, gated.phash);
    this.stats.queued++;
    this.stats.sentAs[prepared.sent]++;
    this.stats.sentBytes += payload.length;
    const detection = {
      ...(prepared.crops === undefined ? {} : { crops: prepared.crops }),
      ...(prepared.read === undefined ? {} : { read: prepared.read }),
      ...(prepared.detectionFailed === undefined ? {} : { detectionFailed: prepared.detectionFailed }),
    };
    return this.finish(file, bytes.length, { outcome: 'queued', key: item.key, sent: prepared.sent, sentBytes: payload.length, ...detection });
  }

  /**
   * What goes up for a capture the gate let through: under a plan that sends crops, the text
   * lines the detector finds, cut from the full-resolution upright frame (under `device`, read
   * here too, each crop with its reading); the downscaled page when it finds none, fails, or there
   * is no detector (said in the route's `sent`); else the plan's.
   */
  private async prepare(bytes: Uint8Array, frame: Frame, planned: Sent): Promise<Prepared> {
    const key = captureKey(bytes);
    const lines = this.linesOf(planned);
    if (lines !== null) {
      try {
        const found = await lines(frame);
        if (found.boxes.length > 0 && found.boxes.length <= this.settings.maxCrops) {
          const regions = await regionsPayload(found.frame, found.boxes, key, found.readings);
          return { key, sent: 'crops', payload: regions.body, contentType: regions.contentType, crops: regions.crops, ...(found.rows === undefined ? {} : { read: found.rows }) };
        }
      } catch (error) {
        // The models are a saving, not a gate: a capture they cannot read still goes, as the page.
        return { key, ...(await this.asImage(bytes, 'downscaled')), detectionFailed: (error as Error).message };
      }
    }
    return { key, ...(await this.asImage(bytes, sentWithoutDetector(planned))) };
  }

  /** How the agent finds a capture's lines for its plan (under `device`, reads them too); null when it sends the page. */
  private linesOf(planned: Sent): ((frame: Frame) => Promise<FoundLines>) | null {
    const { findText, readText } = this;
    if (planned !== 'crops') return null;
    if (readText !== null && POLICY_PLANS[this.policy].deviceReads) return (frame) => readText.read(frame);
    if (findText !== null) return async (frame) => ({ frame, boxes: await findText.find(frame) });
    return null;
  }

  private async asImage(bytes: Uint8Array, sent: Sent): Promise<Pick<Prepared, 'sent' | 'payload' | 'contentType'>> {
    return { sent, payload: sent === 'original' ? bytes : await downscaledCopy(bytes), contentType: IMAGE_CONTENT_TYPE };
  }

  /** The latest remembered capture within the duplicate distance; the file's own earlier visit does not count (its key answers for it). */
  private nearest(file: string, phash: string): FileOutcome | null {
    const recent = (this.recent ?? []).filter((remembered) => remembered.file !== file);
    for (let i = recent.length - 1; i >= 0; i--) {
      const distance = hammingDistance(phash, recent[i].phash);
      if (distance <= this.settings.duplicateDistance) {
        // The last capture forwarded: the scene has not changed; an earlier one: the same page again.
        return { outcome: i === recent.length - 1 ? 'unchanged' : 'duplicate', of: recent[i].file, distance };
      }
    }
    return null;
  }

  private async remember(file: string, phash: string): Promise<void> {
    this.recent = [...(this.recent ?? []).filter((remembered) => remembered.file !== file), { file, phash }].slice(-this.settings.duplicateWindow);
    await this.outbox.keep(RECENT_STATE, this.recent);
  }

  private async finish(file: string, originalBytes: number, outcome: FileOutcome): Promise<FileOutcome> {
    this.stats.files++;
    this.stats.originalBytes += originalBytes;
    await writeSidecar(file, outcome);
    this.log({ file, result: outcome });
    return outcome;
  }

  /** The answer is written beside the file before the item leaves the outbox: a crash between sends it again, and its key finds the record. */
  private async settle(item: OutboxItem, outcome: FileOutcome): Promise<void> {
    await writeSidecar(item.file, outcome);
    await this.outbox.remove(item.key);
    this.log({ file: item.file, result: outcome });
  }
}

/** A capture the agent forwarded, as the duplicate check remembers it. */
interface Remembered {
  file: string;
  phash: string;
}

/** A perceptualHash as it returns them: 64 bits in hex. */
const PERCEPTUAL_HASH = /^[0-9a-f]{16}$/;

/** Where the outbox keeps the agent's recent captures. */
const RECENT_STATE = 'recent-captures';

/** The remembered captures in what the outbox recalls; none when it holds nothing usable (never written, or torn). */
function rememberedOf(value: unknown): Remembered[] {
  if (!Array.isArray(value)) return [];
  return value.filter((entry): entry is Remembered => typeof entry?.file === 'string' && typeof entry?.phash === 'string' && PERCEPTUAL_HASH.test(entry.phash));
}

/** The Idempotency-Key of a capture: its content, so the same file queued twice (a restart) is recorded once. */
export function captureKey(bytes: Uint8Array): string {
  return `edge-${createHash('sha256').update(bytes).digest('hex')}`;
}

/** What `device` and `hybrid` send instead of the original: upright, at most DOWNSCALED_LONG_SIDE, JPEG, no metadata (no GPS, no serial numbers). */
export async function downscaledCopy(bytes: Uint8Array): Promise<Uint8Array> {
  const side = DOWNSCALED_LONG_SIDE;
  return new Uint8Array(await sharp(bytes).rotate().resize({ width: side, height: side, fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 85 }).toBuffer());
}

async function writeSidecar(file: string, outcome: FileOutcome): Promise<void> {
  const path = `${file}${SIDECAR_SUFFIX}`;
  await writeFile(`${path}.tmp`, `${JSON.stringify(outcome, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
