import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { createVisionops } from '../../app/visionops.js';
import { VisionopsError } from '../../core/errors.js';
import { POLICY_PLANS, type EdgePolicy } from '../../core/edge/policy.js';
import type { Config } from '../../config/schema.js';
import { EdgeAgent, runnerGate, type AgentReport } from '../../edge/agent.js';
import { FolderOutbox } from '../../edge/outbox.js';
import { configuredPipeline } from '../../pipeline/pipelines.js';
import { loadNodeTextDetector, loadNodeTextReader, type NodeTextDetector, type NodeTextReader } from '../../edge/regions.js';
import { followDeployment, type CloudTarget } from '../../edge/upload.js';
import { EXIT } from '../exit-codes.js';
import { asString, commandConfig, withConfigOptions, type ConfigOptions } from '../options.js';

interface EdgeOptions extends ConfigOptions {
  cloud: string;
  watch: string;
  outbox?: string;
  policy?: string;
  pipeline?: string;
  key?: string;
  once?: boolean;
}

/**
 * `visionops edge`: the edge agent over a watched folder (src/edge/agent.ts). Prints one JSON line
 * per file it decides on, and on exit (SIGINT, SIGTERM, or `--once` with nothing left to send)
 * one `report` line: what it gated, dropped and sent, and the bytes saved against sending every original.
 */
export function registerEdge(program: Command): void {
  withConfigOptions(program.command('edge'))
    .description('gate and filter captures on this machine, forward the rest to the cloud, queue while it is away')
    .requiredOption('--cloud <url>', 'the visionops server to forward to')
    .requiredOption('--watch <dir>', 'the folder new captures land in')
    .option('--outbox <dir>', 'where uploads wait for the cloud (default: <watch>/.visionops-outbox)')
    .option('--policy <policy>', 'device | hybrid | cloud (sets edge.policy)')
    .option('--pipeline <name>', "the cloud's pipeline, and whose region of interest to gate")
    .option('--key <apiKey>', 'an API key with the predict scope (or VISIONOPS_API_KEY)')
    .option('--once', 'take the folder once, send everything, report and exit')
    .action(async (options: EdgeOptions) => {
      const config = commandConfig(options, { 'edge.policy': asString(options.policy) });
      let cloud: URL;
      try {
        cloud = new URL(options.cloud);
      } catch {
        throw new VisionopsError('INVALID_REQUEST', `--cloud ${options.cloud} is not a URL: give the server's address, e.g. http://cloud.example:8080.`);
      }
      const reader = await createVisionops(config, { scope: 'gate' });
      const runner = reader.runner(options.pipeline);
      const settings = config.edge;
      const outbox = await new FolderOutbox(resolve(options.outbox ?? join(options.watch, '.visionops-outbox')), settings.outbox).open();
      const apiKey = options.key ?? process.env.VISIONOPS_API_KEY;
      const target = { url: cloud.href, pipeline: options.pipeline, apiKey, timeoutMs: settings.uploadTimeoutMs };
      const policy = await followedPolicy(target, settings.policy);
      const plan = POLICY_PLANS[policy];
      const deviceReader = plan.deviceReads ? await textReader(config) : null;
      const detector = plan.sent === 'crops' && deviceReader === null ? await textDetector(config) : null;
      const agent = new EdgeAgent(
        {
          watch: options.watch,
          policy,
          cloud: target,
          backoff: settings.backoff,
          duplicateDistance: settings.duplicates.maxDistance,
          duplicateWindow: settings.duplicates.window,
          settleMs: options.once ? 0 : settings.settleMs,
          maxCrops: settings.regions.maxCrops,
        },
        // The crops are cut from the gate's frame, so the models want it whole; without them a large JPEG is gated on a reduced decode.
        runnerGate(runner, detector === null && deviceReader === null ? 'reduced' : 'full'),
        detector,
        deviceReader,
        outbox,
        (event) => process.stdout.write(`${JSON.stringify(event)}\n`),
      );
      const stop = new AbortController();
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
      while (!stop.signal.aborted) {
        const taken = await agent.scan();
        await agent.drain();
        const due = await agent.nextDueIn();
        if (options.once && taken === 0 && due === null) break;
        await sleep(Math.min(settings.scanMs, due ?? settings.scanMs), stop.signal);
      }
      const report = await agent.report();
      process.stdout.write(`${JSON.stringify({ report })}\n`);
      process.stderr.write(describe(report));
      await detector?.close();
      await deviceReader?.close();
      await reader.close();
      process.exitCode = EXIT.ok;
    });
}

/**
 * The configured policy, narrowed to what the deployment allows when the cloud answers (as the
 * capture page does): a deployment that takes no originals refuses them anyway. An agent that
 * starts with the cloud away learns it at the first refusal.
 */
async function followedPolicy(target: CloudTarget, configured: EdgePolicy): Promise<EdgePolicy> {
  const followed = await followDeployment(target, configured);
  if (followed === null) return configured;
  if (followed.policy !== configured) process.stderr.write(`The cloud's edge policy is "${followed.deployment}": it takes no originals, so this agent follows "${followed.policy}", not "${configured}".\n`);
  return followed.policy;
}

/** The built-in text detector, or null when its model will not load: the agent then sends pages, and says why once. */
function textDetector(config: Config): Promise<NodeTextDetector | null> {
  return loadedOrNull('The text detector', () => loadNodeTextDetector(config.runtime), 'captures are sent as downscaled pages, not crops');
}

/**
 * The built-in models that read on the device (policy `device`), with the reading settings of the
 * default pipeline as the server's capture page gets them; null when they will not load: the cloud
 * then reads the downscaled pages.
 */
function textReader(config: Config): Promise<NodeTextReader | null> {
  return loadedOrNull('The models that read on the device', () => loadNodeTextReader(config.runtime, configuredPipeline(config).settings), 'captures are sent as downscaled pages for the cloud to read');
}

/** Models are a saving, not a requirement: one that will not load is said once, and the agent goes on without it. */
async function loadedOrNull<T>(what: string, load: () => Promise<T>, instead: string): Promise<T | null> {
  try {
    return await load();
  } catch (error) {
    process.stderr.write(`${what} did not load (${(error as Error).message}): ${instead}.\n`);
    return null;
  }
}

function describe(report: AgentReport): string {
  const share = report.originalBytes === 0 ? 0 : (100 * report.savedBytes) / report.originalBytes;
  return (
    `${report.files} files: ${report.rejected} rejected on the spot, ${report.duplicates} duplicates dropped, ${report.unreadable} unreadable, ` +
    `${report.recorded} recorded (${report.replayed} already were), ${report.refused} refused, ${report.waiting} waiting; ` +
    `sent as crops ${report.sentAs.crops}, as pages ${report.sentAs.downscaled}, as originals ${report.sentAs.original}; ` +
    `sent ${report.sentBytes} of ${report.originalBytes} bytes (${share.toFixed(1)}% saved)\n`
  );
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    const wake = () => (clearTimeout(timer), done());
    const timer = setTimeout(() => (signal.removeEventListener('abort', wake), done()), ms);
    signal.addEventListener('abort', wake, { once: true });
  });
}
