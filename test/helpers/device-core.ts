import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * A module of the repo bundled for a page, as a script that defines the global `globalName`.
 * esbuild resolves the same sources the server runs; `platform: 'browser'` refuses any Node
 * built-in, so a bundle of the core proves it needs none.
 */
export async function browserBundle(entry: string, globalName: string): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(`../../${entry}`, import.meta.url))],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName,
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}
