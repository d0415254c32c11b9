import type { EdgeRoute } from '../core/edge/route.js';

/**
 * The predict route puts an edge client's validated route in the source under this name; the
 * record keeps it in `lineage.edge` (where the work ran is lineage), not among what was sent.
 */
export const EDGE_SOURCE_FIELD = 'edge';

/** The source without the edge route, and the lineage field holding it (empty without one). */
export function liftEdgeRoute(source: Record<string, unknown>): { source: Record<string, unknown>; lineage: { edge?: EdgeRoute } } {
  const { [EDGE_SOURCE_FIELD]: edge, ...rest } = source;
  return { source: rest, lineage: edge === undefined ? {} : { edge: edge as EdgeRoute } };
}
