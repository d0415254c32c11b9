import { join } from 'node:path';
import Database from 'better-sqlite3';

export interface StoredRecord {
  id: string;
  image_sha256: string;
  lineage: string;
  result: string;
}

/** The records a server with the embedded store wrote under `dataDir`, read straight from its SQLite file. */
export function storedRecords(dataDir: string): StoredRecord[] {
  const database = new Database(join(dataDir, 'visionops.db'), { readonly: true });
  try {
    return database.prepare('SELECT id, image_sha256, lineage, result FROM predictions').all() as StoredRecord[];
  } finally {
    database.close();
  }
}
