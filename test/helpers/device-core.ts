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

/**
 * A module of the repo bundled as one ES module, for a page's module script or a module worker:
 * `import.meta.url` stays the script's own, so a `new URL('./x.ts', import.meta.url)` worker resolves
 * beside it on the page's origin. With `globalName`, the module's exports are also put on globalThis.
 */
export async function browserModule(entry: string, globalName?: string): Promise<string> {
  const path = fileURLToPath(new URL(`../../${entry}`, import.meta.url));
  const exposed = globalName === undefined ? {} : { stdin: { contents: `import * as exported from ${JSON.stringify(path)};\nObject.assign(globalThis, { ${JSON.stringify(globalName)}: exported });`, resolveDir: fileURLToPath(new URL('../..', import.meta.url)), loader: 'ts' as const } };
  const result = await build({
    ...(globalName === undefined ? { entryPoints: [path] } : exposed),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}
