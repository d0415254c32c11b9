import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { VisionopsError } from '../../core/errors.js';
import type { Monitor } from '../../monitor/monitor.js';

export interface MonitorOptions {
  monitor: Monitor;
}

const eventSchema = z.object({ name: z.string().min(1), value: z.number().positive().finite().optional() }).strict();

/** Prometheus metrics, alerts, the dashboard's summary and custom counters. */
export const monitorRoutes: FastifyPluginAsync<MonitorOptions> = async (app, { monitor }) => {
  app.get('/metrics', { config: { scope: 'public' } }, async (_request, reply) => {
    const registry = monitor.metrics.registry;
    return reply.type(registry.contentType).send(await registry.metrics());
  });

  app.get('/v1/alerts', { config: { scope: 'admin' } }, async () => ({ alerts: monitor.alerts() }));

  app.get('/v1/monitor/summary', { config: { scope: 'admin' } }, async () => monitor.summary());

  app.post('/v1/events', { config: { scope: 'predict' } }, async (request, reply) => {
    const parsed = eventSchema.safeParse(request.body);
    if (!parsed.success) {
      throw new VisionopsError('INVALID_REQUEST', 'Send a JSON object {"name": "<a counter in monitor.events>", "value": <a positive number, 1 when left out>}.');
    }
    monitor.increment(parsed.data.name, parsed.data.value);
    return reply.status(202).send({ name: parsed.data.name, added: parsed.data.value ?? 1 });
  });
};
