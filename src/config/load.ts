import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { canonicalJson } from '../core/canonical-json.js';
import { VisionopsError } from '../core/errors.js';
import { editDistance } from '../core/text/error-rate.js';
import { configSchema, type Config } from './schema.js';

export interface LoadConfigOptions {
  /** A JSON file holding any part of the configuration; what it leaves out keeps its default. */
  file?: string;
  /** `key.path=value` overrides applied after the file, in order; the value is JSON when it parses as JSON, else a string. */
  sets?: string[];
}

/** One thing wrong with a configuration: where, what was expected, and how to fix it. */
export interface ConfigProblem {
  path: string;
  problem: string;
  fix: string;
}

type Tree = Record<string, unknown>;

/** Keys that would reach an object's prototype instead of the configuration. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The effective configuration: defaults, then the file, then each `--set`, validated as a whole.
 * Throws INVALID_CONFIG naming every bad key path, what was expected there and the fix.
 *
 * @example
 * const config = loadConfig({ file: 'visionops.json', sets: ['server.port=9000', 'data.dir=/var/lib/visionops'] });
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const tree = options.file === undefined ? {} : readConfigFile(options.file);
  for (const assignment of options.sets ?? []) applySet(tree, assignment);
  const parsed = configSchema.safeParse(tree);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.flatMap(describeIssue);
  const origin = [options.file && `file ${options.file}`, options.sets?.length && '--set'].filter(Boolean).join(' and ');
  throw new VisionopsError(
    'INVALID_CONFIG',
    `Invalid configuration${origin ? ` (from ${origin})` : ''}:\n` +
      problems.map((p) => `  - ${p.path}: ${p.problem}. Fix: ${p.fix}.`).join('\n'),
    { problems },
  );
}

/**
 * SHA-256 of the canonical JSON (keys sorted) of the settings that judge an image: the quality
 * gate and the decision thresholds. Two records with the same hash were judged by the same rules.
 */
export function configHash(config: Config): string {
  return judgementHash(config.quality, config.pipeline.decision);
}

/** Hash of the gate settings and a pipeline's decision settings: which thresholds judged a record. */
export function judgementHash(quality: Config['quality'], decision: unknown): string {
  return createHash('sha256').update(canonicalJson({ quality, decision })).digest('hex');
}

function readConfigFile(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(error as Error).message})`;
    throw new VisionopsError('INVALID_CONFIG', `Config file ${file} ${reason}: check the path given to --config.`, { file });
  }
  let tree: unknown;
  try {
    tree = JSON.parse(text);
  } catch (error) {
    throw new VisionopsError(
      'INVALID_CONFIG',
      `Config file ${file} is not valid JSON (${(error as Error).message}): fix its syntax; \`visionops config\` prints a valid example.`,
      { file },
    );
  }
  if (!isTree(tree)) {
    throw new VisionopsError('INVALID_CONFIG', `Config file ${file} must hold a JSON object, e.g. {"server": {"port": 9000}}.`, { file });
  }
  return tree;
}

function applySet(tree: Tree, assignment: string): void {
  const equals = assignment.indexOf('=');
  const path = equals < 0 ? [] : assignment.slice(0, equals).split('.');
  if (path.length === 0 || path.some((key) => key === '')) {
    throw new VisionopsError('INVALID_CONFIG', `--set "${assignment}" is not key.path=value: write it as, e.g., --set server.port=9000.`, {
      set: assignment,
    });
  }
  const forbidden = path.find((key) => FORBIDDEN_KEYS.has(key));
  if (forbidden !== undefined) {
    throw new VisionopsError('INVALID_CONFIG', `--set "${assignment}": "${forbidden}" is not a configuration key; \`visionops config\` lists them.`, {
      set: assignment,
    });
  }
  let section = tree;
  for (let i = 0; i < path.length - 1; i++) {
    const next = section[path[i]];
    if (next === undefined) section[path[i]] = {};
    else if (!isTree(next)) {
      throw new VisionopsError(
        'INVALID_CONFIG',
        `--set "${assignment}": ${path.slice(0, i + 1).join('.')} holds ${JSON.stringify(next)}, not a section, so it has no key ${path[i + 1]}.`,
        { set: assignment },
      );
    }
    section = section[path[i]] as Tree;
  }
  section[path[path.length - 1]] = parseValue(assignment.slice(equals + 1));
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function isTree(value: unknown): value is Tree {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function describeIssue(issue: z.core.$ZodIssue): ConfigProblem[] {
  const at = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const known = Object.keys(defaultAt(at) as Tree);
    return issue.keys.map((key) => {
      const closest = closestKey(key, known);
      return {
        path: [...at, key].join('.'),
        problem: 'unknown key',
        fix:
          `remove it${closest ? ` or write "${closest}"` : ''}; ` +
          `${at.length === 0 ? 'the top level' : at.join('.')} accepts ${known.join(', ')}`,
      };
    });
  }
  const path = at.join('.') || '(the configuration)';
  const fallback = defaultAt(at);
  const fix =
    fallback === undefined
      ? `correct ${path}`
      : `give ${path} a valid value (the default is ${JSON.stringify(fallback)}), or remove it to keep the default`;
  return [{ path, problem: issue.message.replace(/^Invalid input: /, ''), fix }];
}

let defaults: Config | undefined;

function defaultAt(path: string[]): unknown {
  defaults ??= configSchema.parse({});
  let node: unknown = defaults;
  for (const key of path) node = isTree(node) && Object.hasOwn(node, key) ? node[key] : undefined;
  return node;
}

/** The known key within two edits of a mistyped one, to suggest a fix for typos and wrong case. */
function closestKey(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = candidate.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}
