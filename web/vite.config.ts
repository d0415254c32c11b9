import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const page = (name: string) => fileURLToPath(new URL(`./${name}/index.html`, import.meta.url));

/** The pages the server hands out: built once into dist/web, served by src/server/routes/web.ts. */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/web/',
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    rollupOptions: { input: { review: page('review'), dashboard: page('dashboard'), capture: page('capture') } },
  },
  // Module workers: the model worker imports onnxruntime-web's WebGPU or WebAssembly build when it needs it, as its own chunk.
  worker: { format: 'es' },
});
