import type { EdgeRoute } from '../../src/core/device.ts';

/** One capture waiting for the cloud, kept in IndexedDB so that closing the tab or losing the network loses nothing. */
export interface QueuedCapture {
  /** The Idempotency-Key: made once at capture, so every retry of this capture finds its first record. */
  key: string;
  image: Blob;
  route: EdgeRoute;
  queuedAt: number;
  attempts: number;
  notBefore: number;
}

/** When full, a new capture is refused (and the page says so): what waits was promised to the cloud and is never dropped. */
export const OUTBOX_LIMITS = { maxItems: 20, maxBytes: 50 * 1024 * 1024 };

const DATABASE = 'visionops-capture';
const STORE = 'outbox';

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function open(): Promise<IDBDatabase> {
  const opening = indexedDB.open(DATABASE, 1);
  opening.onupgradeneeded = () => opening.result.createObjectStore(STORE, { keyPath: 'key' });
  return request(opening);
}

async function withStore<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const database = await open();
  try {
    const transaction = database.transaction(STORE, mode);
    const result = await request(work(transaction.objectStore(STORE)));
    await new Promise<void>((resolve, reject) => {
      transaction.oncomplete = () => resolve();
      transaction.onerror = () => reject(transaction.error);
    });
    return result;
  } finally {
    database.close();
  }
}

export async function queued(): Promise<QueuedCapture[]> {
  const all = await withStore('readonly', (store) => store.getAll() as IDBRequest<QueuedCapture[]>);
  return all.sort((a, b) => a.queuedAt - b.queuedAt);
}

/** Queues a capture, or returns why it cannot: the outbox is full. */
export async function enqueue(capture: QueuedCapture): Promise<string | null> {
  const waiting = await queued();
  const bytes = waiting.reduce((total, item) => total + item.image.size, 0);
  if (waiting.length + 1 > OUTBOX_LIMITS.maxItems || bytes + capture.image.size > OUTBOX_LIMITS.maxBytes) {
    return `The outbox is full (${waiting.length} captures waiting): get a connection so they can be sent before capturing more.`;
  }
  await withStore('readwrite', (store) => store.put(capture));
  return null;
}

export async function update(capture: QueuedCapture): Promise<void> {
  await withStore('readwrite', (store) => store.put(capture));
}

export async function remove(key: string): Promise<void> {
  await withStore('readwrite', (store) => store.delete(key));
}
