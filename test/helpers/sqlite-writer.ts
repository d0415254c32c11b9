import { openSqliteStores } from '../../src/store/sqlite/index.js';
import { record } from '../fixtures/records.js';

/**
 * Saves records into a SQLite file until it is killed, printing each id once `save` has
 * returned (committed). Usage: node --import tsx test/helpers/sqlite-writer.ts <db file>
 */
const stores = openSqliteStores(process.argv[2]);
for (;;) {
  const saved = await stores.predictions.save(record('accept'));
  process.stdout.write(`${saved.id}\n`);
}
