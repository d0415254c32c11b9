import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sparticuz from '@sparticuz/chromium';
import { chromium, type Browser } from 'playwright-core';

/**
 * Flags of the package (made for serverless functions) that these tests do without: the first three
 * would weaken the same-origin and mixed-content rules a reviewer's browser enforces, and a browser
 * in one process closes for good when its first page context closes.
 */
const DROPPED_FLAGS = new Set(['--disable-web-security', '--allow-running-insecure-content', '--disable-site-isolation-trials', '--single-process']);

/** Without these, Chromium's start-up requests are refused by this machine's closed network, many at a time. */
const OFFLINE_FLAGS = ['--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'];

/**
 * The headless Chromium that ships inside the npm package @sparticuz/chromium, so `npm ci` is all a
 * machine needs. The package unpacks its binary into the temporary folder and, once a binary is
 * there, trusts it; unpacking into a fresh folder per process and renaming it into place makes a
 * half-unpacked or another version's binary impossible to pick up, whatever runs alongside.
 */
async function unpackedChromium(): Promise<string> {
  const version = JSON.parse(readFileSync(new URL('../../package.json', import.meta.resolve('@sparticuz/chromium')), 'utf8')).version as string;
  const home = join(tmpdir(), `visionops-chromium-${version}`);
  const executable = join(home, 'chromium');
  if (existsSync(executable)) return executable;
  const staging = mkdtempSync(join(tmpdir(), 'visionops-chromium-unpacking-'));
  const systemTemp = process.env.TMPDIR;
  // The package unpacks into os.tmpdir(), which reads TMPDIR.
  process.env.TMPDIR = staging;
  try {
    await sparticuz.executablePath();
  } finally {
    if (systemTemp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = systemTemp;
  }
  try {
    renameSync(staging, home);
  } catch (error) {
    // Another process put its copy in place first: use that one.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(executable)) throw error;
  }
  return executable;
}

/** Headless Chromium; a browser that cannot start throws, so the test that asked for it fails. */
export async function launchChromium(options: { env?: Record<string, string>; args?: string[] } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: await unpackedChromium(),
    args: [...sparticuz.args.filter((flag) => !DROPPED_FLAGS.has(flag)), ...OFFLINE_FLAGS, ...(options.args ?? [])],
    headless: true,
    ...(options.env === undefined ? {} : { env: options.env }),
  });
}
