import { openSqliteStores } from '../../src/store/sqlite/index.js';

/**
 * One reviewer in its own process: claims tasks from the shared database until none is left and
 * prints their ids as JSON. Usage: node --import tsx test/helpers/claim-worker.ts <db file> <reviewer> <start, ms since the epoch>
 * Every worker waits for the same start time, so their claims overlap despite uneven start-up.
 */
const [file, reviewer, start] = process.argv.slice(2);
const stores = openSqliteStores(file);
const { reviews } = stores;
while (Date.now() < Number(start)) await new Promise((resolve) => setTimeout(resolve, 5));
const claimed: string[] = [];
for (;;) {
  const task = await reviews.claim(reviewer, 60_000);
  if (task === null) break;
  claimed.push(task.id);
}
await stores.close();
process.stdout.write(JSON.stringify(claimed));
