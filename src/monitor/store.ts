import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { VisionopsError } from '../core/errors.js';
import type { AlertState } from '../core/monitor/alerts.js';
import type { ReferenceProfile } from '../core/monitor/profile.js';
import type { MonitorStore } from '../store/store.js';

interface TransitionRow {
  rule: string;
  state: 'firing' | 'resolved';
  since: string;
  message: string;
  details: string;
}

/**
 * `monitor.db` in the data directory: its own file beside the prediction store, so monitoring
 * writes never wait on prediction writes and its schema evolves on its own.
 */
export function openMonitorStore(dataDir: string): MonitorStore {
  let db: Database.Database;
  try {
    mkdirSync(dataDir, { recursive: true });
    db = new Database(join(dataDir, 'monitor.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(`
      CREATE TABLE IF NOT EXISTS alert_transitions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        rule TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('firing', 'resolved')),
        since TEXT NOT NULL,
        message TEXT NOT NULL,
        details TEXT NOT NULL CHECK (json_valid(details))
      ) STRICT;
      CREATE TABLE IF NOT EXISTS reference_profile (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        profile TEXT NOT NULL CHECK (json_valid(profile))
      ) STRICT;
    `);
  } catch (error) {
    throw new VisionopsError('STORE_UNAVAILABLE', `The monitor database in ${dataDir} cannot be opened (${(error as Error).message}): check that the data directory is writable.`, undefined, {
      cause: error,
    });
  }
  const insert = db.prepare('INSERT INTO alert_transitions (rule, state, since, message, details) VALUES (?, ?, ?, ?, ?)');
  const recent = db.prepare<[number], TransitionRow>('SELECT rule, state, since, message, details FROM alert_transitions ORDER BY id DESC LIMIT ?');
  const latest = db.prepare<[], TransitionRow>(
    'SELECT rule, state, since, message, details FROM alert_transitions WHERE id IN (SELECT MAX(id) FROM alert_transitions GROUP BY rule)',
  );
  const saveProfile = db.prepare('INSERT INTO reference_profile (id, profile) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET profile = excluded.profile');
  const loadProfile = db.prepare<[], { profile: string }>('SELECT profile FROM reference_profile WHERE id = 1');
  const toState = (row: TransitionRow): AlertState => ({ ...row, details: JSON.parse(row.details) as Record<string, unknown> });
  return {
    recordTransition: (state) => void insert.run(state.rule, state.state, state.since, state.message, JSON.stringify(state.details)),
    transitions: (limit) => recent.all(limit).map(toState),
    latestStates: () => latest.all().map(toState),
    saveReference: (profile) => void saveProfile.run(JSON.stringify(profile)),
    loadReference: () => {
      const row = loadProfile.get();
      return row === undefined ? null : (JSON.parse(row.profile) as ReferenceProfile);
    },
    close: () => void (db.open && db.close()),
  };
}
