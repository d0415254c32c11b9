import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { CAPTURE_POLICY_PATH, type CapturePolicyAnswer, type EdgePolicy } from '../../core/edge/policy.js';
import { DEVICE_LEXICON_PATH, DEVICE_MODELS_PATH, deviceReadingSettings, type DeviceModelsAnswer, type DeviceReadingSettings } from '../../core/edge/route.js';
import { englishSource } from '../../pipeline/lexicon.js';
import { builtinManifests, deviceModels } from '../../runtime/builtin.js';
import { answer } from '../http-errors.js';

/** `npm run build` writes the pages here; the path is the same from src/ (tests) and dist/ (npm start). */
const builtPages = fileURLToPath(new URL('../../../dist/web/', import.meta.url));

const PAGES = ['review', 'dashboard', 'capture'] as const;

export interface WebRouteOptions {
  /** The default pipeline's settings: a device that reads (the capture page under `device`) turns and reads pages as they say. */
  reading: DeviceReadingSettings;
  /** The deployment's routing policy (`edge.policy`): the capture page's, and the most a link may send. */
  policy: EdgePolicy;
}

/** The web pages: each at its own path, their scripts and styles under /web/. */
export const webRoutes: FastifyPluginAsync<WebRouteOptions> = async (app, { reading, policy }) => {
  // Served with or without the pages: the edge agent follows it too.
  const deployment: CapturePolicyAnswer = { policy };
  app.get(CAPTURE_POLICY_PATH, { config: { scope: 'public' } }, async (_request, reply) => reply.header('cache-control', 'no-cache').send(deployment));
  if (!existsSync(builtPages)) {
    for (const page of PAGES) {
      app.get(`/${page}`, { config: { scope: 'public' } }, async (_request, reply) => {
        const { status, body } = answer('NOT_FOUND', `The ${page} page is not built: run npm run build.`);
        return reply.status(status).send(body);
      });
    }
    return;
  }
  // @fastify/static takes no route config: its routes (the pages' scripts and styles) are marked public here.
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, scope: route.config?.scope ?? 'public' };
  });
  await app.register(fastifyStatic, { root: builtPages, prefix: '/web/', index: false });
  for (const page of PAGES) {
    app.get(`/${page}`, { config: { scope: 'public' } }, async (_request, reply) => reply.sendFile(`${page}/index.html`));
  }
  // The models the capture page runs on the device (docs/edge.md): the built-in weights, as the server reads them (found on the first request).
  for (const role of ['detection', 'orientation', 'recognition'] as const) {
    app.get(`/web/models/${role}.onnx`, { config: { scope: 'public' } }, async (_request, reply) => {
      const { path } = (await builtinManifests())[role];
      return reply.header('cache-control', 'public, max-age=86400').sendFile(basename(path), dirname(path));
    });
  }
  // What the device names in its route (each model's id and version), the recogniser's CTC alphabet
  // and the pipeline's reading settings, so it turns, decodes and spells as the server does.
  const settings = deviceReadingSettings(reading);
  app.get(DEVICE_MODELS_PATH, { config: { scope: 'public' } }, async (_request, reply) => {
    const manifests = await builtinManifests();
    const served: DeviceModelsAnswer = { models: await deviceModels(), alphabet: manifests.recognition.labels ?? [], settings };
    // Asked again on each load: a change of configuration reaches devices at their next load.
    return reply.header('cache-control', 'no-cache').send(served);
  });
  // The lexicon the spelling pass reads with, so a device spells its readings as the server does:
  // 1.6 MB of JSON, serialised once rather than on every request.
  let lexicon: Promise<string> | undefined;
  app.get(DEVICE_LEXICON_PATH, { config: { scope: 'public' } }, async (_request, reply) => {
    lexicon ??= englishSource().then((source) => JSON.stringify(source));
    return reply.header('cache-control', 'public, max-age=86400').type('application/json; charset=utf-8').send(await lexicon);
  });
};
