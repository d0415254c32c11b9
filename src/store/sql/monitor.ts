import type { AlertState } from '../../core/monitor/alerts.js';
import type { ReferenceProfile } from '../../core/monitor/profile.js';
import type { MonitorStore } from '../store.js';
import { storeOn, type SqlClient } from './client.js';

interface TransitionRow {
  rule: string;
  state: AlertState['state'];
  since: string;
  message: string;
  details: string;
}

const COLUMNS = 'rule, state, since, message, details';

/** Alert transitions (append only) and the one reference profile built from production, over either SQL database. */
export function createSqlMonitorStore(client: SqlClient): MonitorStore {
  const db = storeOn(client, 'monitor store');
  const states = async (sql: string, params: number[] = []) => (await db.query<TransitionRow>(sql, params)).map(toState);
  return {
    async recordTransition(state) {
      await db.query(`INSERT INTO alert_transitions (${COLUMNS}) VALUES (?, ?, ?, ?, ?)`, [
        state.rule,
        state.state,
        state.since,
        state.message,
        JSON.stringify(state.details),
      ]);
    },
    transitions: (limit) => states(`SELECT ${COLUMNS} FROM alert_transitions ORDER BY id DESC LIMIT ?`, [limit]),
    latestStates: () => states(`SELECT ${COLUMNS} FROM alert_transitions WHERE id IN (SELECT MAX(id) FROM alert_transitions GROUP BY rule) ORDER BY id`),
    async saveReference(profile) {
      await db.query('INSERT INTO reference_profile (id, profile) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET profile = excluded.profile', [
        JSON.stringify(profile),
      ]);
    },
    async loadReference() {
      const [row] = await db.query<{ profile: string }>('SELECT profile FROM reference_profile WHERE id = 1');
      return row === undefined ? null : (JSON.parse(row.profile) as ReferenceProfile);
    },
    close: db.close,
  };
}

function toState(row: TransitionRow): AlertState {
  return { ...row, details: JSON.parse(row.details) as Record<string, unknown> };
}
