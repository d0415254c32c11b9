import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EdgeRoute } from '../core/edge/route.js';
import { VisionopsError } from '../core/errors.js';

/** One upload waiting for the cloud. */
export interface OutboxItem {
  /** Sent as the Idempotency-Key: a retry, or a second agent run over the same capture, finds the first record. */
  key: string;
  /** The watched file it came from. */
  file: string;
  route: EdgeRoute;
  /** The payload's Content-Type: an image's, or a regions upload's multipart type with its boundary. */
  contentType: string;
  /** Bytes of the original and of what is sent. */
  originalBytes: number;
  sentBytes: number;
  attempts: number;
  /** Epoch milliseconds before which it is not retried. */
  notBefore: number;
  /** Epoch milliseconds it was queued: the outbox drains oldest first. */
  queuedAt: number;
}

export interface OutboxLimits {
  maxItems: number;
  maxBytes: number;
}

export const DEFAULT_OUTBOX_LIMITS: OutboxLimits = { maxItems: 1000, maxBytes: 512 * 1024 * 1024 };

const PAYLOAD = '.payload';
const ENTRY = '.json';
const STATE = '.state';

/**
 * The agent's outbox: a folder holding, per upload, its payload and an entry describing it, each
 * written to a temporary name and renamed into place (the entry last, so an entry always has its
 * payload), so a crash leaves a whole item or none. Bounded: when full, `add` refuses with
 * OUTBOX_FULL and the caller leaves the capture where it was until room frees (nothing is evicted:
 * what waits was accepted and is owed to the cloud).
 */
export class FolderOutbox {
  constructor(
    readonly dir: string,
    private readonly limits: OutboxLimits = DEFAULT_OUTBOX_LIMITS,
  ) {}

  async open(): Promise<this> {
    await mkdir(this.dir, { recursive: true });
    // Temporary files of a write a crash interrupted: their item was never added.
    for (const name of await readdir(this.dir)) if (name.endsWith('.tmp')) await rm(join(this.dir, name), { force: true });
    return this;
  }

  async items(): Promise<OutboxItem[]> {
    const names = (await readdir(this.dir)).filter((name) => name.endsWith(ENTRY)).sort();
    const items: OutboxItem[] = [];
    for (const name of names) {
      const text = await readFile(join(this.dir, name), 'utf8').catch(() => null);
      if (text !== null) items.push(JSON.parse(text) as OutboxItem);
    }
    return items;
  }

  /** Queues an upload; a key already queued is left as it is. Throws OUTBOX_FULL past either limit. */
  async add(item: OutboxItem, payload: Uint8Array): Promise<void> {
    const items = await this.items();
    if (items.some((queued) => queued.key === item.key)) return;
    const bytes = items.reduce((total, queued) => total + queued.sentBytes, 0);
    if (items.length + 1 > this.limits.maxItems || bytes + payload.length > this.limits.maxBytes) {
      throw new VisionopsError('OUTBOX_FULL', `The outbox holds ${items.length} uploads (${bytes} bytes), its limit: ${item.file} waits where it is until the cloud takes some.`, {
        items: items.length,
        bytes,
        limits: this.limits,
      });
    }
    await this.writeAtomically(this.name(item.key, PAYLOAD), payload);
    await this.writeAtomically(this.name(item.key, ENTRY), JSON.stringify(item));
  }

  payload(key: string): Promise<Uint8Array> {
    return readFile(this.name(key, PAYLOAD));
  }

  async update(item: OutboxItem): Promise<void> {
    await this.writeAtomically(this.name(item.key, ENTRY), JSON.stringify(item));
  }

  /** Removes a delivered (or refused) upload: the entry first, so a crash between leaves only an orphan payload, never an entry without one. */
  async remove(key: string): Promise<void> {
    await rm(this.name(key, ENTRY), { force: true });
    await rm(this.name(key, PAYLOAD), { force: true });
  }

  /** A small piece of the agent's own state kept beside the uploads (`<name>.state`, written whole or not at all). */
  async keep(name: string, value: unknown): Promise<void> {
    await this.writeAtomically(join(this.dir, `${name}${STATE}`), JSON.stringify(value));
  }

  /** What `keep` last wrote under `name`; null when nothing was, or it cannot be read as JSON. */
  async recall(name: string): Promise<unknown> {
    const text = await readFile(join(this.dir, `${name}${STATE}`), 'utf8').catch(() => null);
    if (text === null) return null;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return null;
    }
  }

  private name(key: string, suffix: string): string {
    // Keys are printable ASCII; a file name takes a safe spelling of it.
    return join(this.dir, `${encodeURIComponent(key)}${suffix}`);
  }

  private async writeAtomically(path: string, data: Uint8Array | string): Promise<void> {
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, data);
    await rename(temporary, path);
  }
}
