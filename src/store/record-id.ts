import { randomBytes } from 'node:crypto';

/** rand_a is a counter within one millisecond; a fresh millisecond starts it below half, leaving room to count. */
const COUNTER_MAX = 0xfff;
const COUNTER_START_MAX = 0x7ff;

let lastMs = -1;
let counter = 0;

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit counter (method 1 of section
 * 6.2), then random bits. Ids made by one process sort as they were made, even within a
 * millisecond or when the clock steps back, so the id alone orders and pages records.
 */
export function newRecordId(now: number = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    counter = randomBytes(2).readUInt16BE(0) & COUNTER_START_MAX;
  } else if (++counter > COUNTER_MAX) {
    lastMs += 1;
    counter = 0;
  }
  const bytes = randomBytes(16);
  bytes.writeUIntBE(lastMs, 0, 6);
  bytes[6] = 0x70 | (counter >> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const RECORD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function isRecordId(text: string): boolean {
  return RECORD_ID.test(text);
}
