import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { configHash, loadConfig } from '../src/config/load.js';
import { configSchema } from '../src/config/schema.js';
import { VisionopsError } from '../src/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'visionops-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, content: string): string {
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

function invalidConfig(run: () => unknown): VisionopsError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof VisionopsError, `expected a VisionopsError, got ${String(error)}`);
    assert.equal(error.code, 'INVALID_CONFIG');
    return error;
  }
  assert.fail('expected INVALID_CONFIG');
}

test('with no file and no --set, every setting has its default', () => {
  const config = loadConfig();
  assert.deepEqual(config, configSchema.parse({}));
  assert.equal(config.server.port, 8080);
  assert.equal(config.server.host, '127.0.0.1');
  assert.equal(config.data.dir, './data');
  assert.equal(config.pipeline.decision.reviewThreshold, 0.93);
});

test('the file overrides the defaults and each --set overrides the file', () => {
  const file = configFile('override.json', JSON.stringify({ server: { port: 9000, host: '0.0.0.0' }, quality: { blur: { failBelow: 0.1 } } }));
  const config = loadConfig({ file, sets: ['server.port=9100', 'data.dir=/var/lib/visionops', 'ingest.keepGps=true'] });
  assert.equal(config.server.port, 9100);
  assert.equal(config.server.host, '0.0.0.0');
  assert.equal(config.quality.blur.failBelow, 0.1);
  assert.equal(config.quality.blur.warnBelow, configSchema.parse({}).quality.blur.warnBelow);
  assert.equal(config.data.dir, '/var/lib/visionops');
  assert.equal(config.ingest.keepGps, true);
});

test('a --set value is JSON when it parses as JSON, else a string', () => {
  const config = loadConfig({ sets: ['server.host=127.0.0.2', 'data.dir="8080"', 'ingest.maxBytes=1e6'] });
  assert.equal(config.server.host, '127.0.0.2');
  assert.equal(config.data.dir, '8080');
  assert.equal(config.ingest.maxBytes, 1_000_000);
});

test('a value of the wrong type is INVALID_CONFIG naming the key, what was expected and the fix', () => {
  const error = invalidConfig(() => loadConfig({ sets: ['server.port=abc'] }));
  assert.match(error.message, /server\.port: expected number, received string/);
  assert.match(error.message, /Fix: .*default is 8080/);
  assert.deepEqual(
    (error.details?.problems as Array<{ path: string }>).map((p) => p.path),
    ['server.port'],
  );
});

test('an unknown key in the file is INVALID_CONFIG naming its path and the key it resembles', () => {
  const file = configFile('typo.json', JSON.stringify({ quality: { blur: { failbelow: 0.1 } }, colour: 'red' }));
  const error = invalidConfig(() => loadConfig({ file }));
  assert.match(error.message, /quality\.blur\.failbelow: unknown key\. Fix: remove it or write "failBelow"/);
  assert.match(error.message, /colour: unknown key/);
  assert.match(error.message, new RegExp(`from file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
});

test('every bad key is named at once', () => {
  const error = invalidConfig(() => loadConfig({ sets: ['server.port=-1', 'pipeline.decision.reviewThreshold=2', 'server.logLevel=loud'] }));
  for (const path of ['server.port', 'pipeline.decision.reviewThreshold', 'server.logLevel']) assert.ok(error.message.includes(`${path}:`), path);
});

test('a missing file, a file that is not JSON, a file that is not an object and a malformed --set are INVALID_CONFIG', () => {
  assert.match(invalidConfig(() => loadConfig({ file: join(dir, 'absent.json') })).message, /does not exist/);
  assert.match(invalidConfig(() => loadConfig({ file: configFile('broken.json', '{"server": ') })).message, /not valid JSON/);
  assert.match(invalidConfig(() => loadConfig({ file: configFile('list.json', '[1, 2]') })).message, /must hold a JSON object/);
  assert.match(invalidConfig(() => loadConfig({ sets: ['server.port'] })).message, /not key\.path=value/);
  assert.match(invalidConfig(() => loadConfig({ sets: ['.port=1'] })).message, /not key\.path=value/);
  assert.match(invalidConfig(() => loadConfig({ sets: ['server.port=1', 'server.port.inner=2'] })).message, /server\.port holds 1, not a section/);
});

test('--set cannot reach an object prototype', () => {
  invalidConfig(() => loadConfig({ sets: ['__proto__.polluted=true'] }));
  invalidConfig(() => loadConfig({ sets: ['server.constructor.prototype.polluted=true'] }));
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('configHash follows the gate and decision settings only, whatever the key order', () => {
  const base = loadConfig();
  assert.match(configHash(base), /^[0-9a-f]{64}$/);
  assert.equal(configHash(loadConfig({ sets: ['server.port=9999', 'data.dir=/elsewhere'] })), configHash(base));
  const reordered = { ...base, quality: Object.fromEntries(Object.entries(base.quality).reverse()) } as typeof base;
  assert.equal(configHash(reordered), configHash(base));
  assert.notEqual(configHash(loadConfig({ sets: ['quality.blur.failBelow=0.1'] })), configHash(base));
  assert.notEqual(configHash(loadConfig({ sets: ['pipeline.decision.reviewThreshold=0.9'] })), configHash(base));
});

test('docs/configuration.md documents every setting with its default', () => {
  const doc = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');
  const defaults = configSchema.parse({});
  const stale = leafPaths(defaults).flatMap((path) => {
    const row = doc.match(new RegExp(`^\\| \`${path.replace(/\./g, '\\.')}\` \\| \`([^\`]*)\` \\|`, 'm'));
    const actual = path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], defaults);
    if (row === null) return [`${path}: no row`];
    return JSON.stringify(JSON.parse(row[1])) === JSON.stringify(actual) ? [] : [`${path}: documented ${row[1]}, default ${JSON.stringify(actual)}`];
  });
  assert.deepEqual(stale, [], 'docs/configuration.md is out of step with the schema');
});

function leafPaths(tree: object, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([key, value]) =>
    value !== null && typeof value === 'object' && !Array.isArray(value) ? leafPaths(value, `${prefix}${key}.`) : [`${prefix}${key}`],
  );
}
