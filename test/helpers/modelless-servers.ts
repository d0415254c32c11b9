import type { FastifyInstance } from 'fastify';
import { createVisionops, type Visionops } from '../../src/app/visionops.js';
import { loadConfig } from '../../src/config/load.js';
import { noModelsPipeline } from './pipelines.js';
import type { ReviewFixture } from './review.js';

/**
 * Servers without models over a review fixture's stores, for tests of what reaches the routes
 * (access, headers, limits), not what the models read. `fixture` is asked when a server is made,
 * since tests make their fixture in `before`.
 */
export function modellessServers(fixture: () => ReviewFixture) {
  const systems: Visionops[] = [];
  return {
    async serverWith(sets: string[]): Promise<FastifyInstance> {
      const config = loadConfig({ sets: ['server.logLevel="silent"', ...sets] });
      const system = await createVisionops(config, { overrides: { stores: fixture().stores, pipelines: [noModelsPipeline], lab: [] } });
      systems.push(system);
      return system.server();
    },
    async close(): Promise<void> {
      for (const system of systems) await system.close();
    },
  };
}
