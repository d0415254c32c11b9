import { VisionopsError } from '../core/errors.js';
import type { ModelLineage } from '../core/records/prediction.js';
import type { DatasetEntry, DatasetReview, ModelStore, PredictionStore } from '../store/store.js';
import type { ModelVersion } from './types.js';

/** One model of a prediction, with its chain of parents back to the first version, each with the dataset it came from. */
export interface ModelChain {
  ran: ModelLineage;
  /** This version first, then its parent, and so on; a version not in the registry ends the chain. */
  versions: (Omit<ModelVersion, 'manifest'> & { dataset: string | null; datasetEntry: (DatasetEntry & { reviews: DatasetReview[] }) | null })[];
}

/** Prediction -> pipeline -> model versions (and the stage each ran in) -> parents -> dataset -> the reviews it came from. */
export interface LineageChain {
  prediction: { id: string; createdAt: string; decision: string; image: string };
  pipeline: { id: string; version: string };
  models: ModelChain[];
}

/** The whole chain behind one prediction. Throws PREDICTION_NOT_FOUND. */
export async function lineageChain(predictions: PredictionStore, models: ModelStore, id: string): Promise<LineageChain> {
  const record = await predictions.get(id);
  if (record === null) throw new VisionopsError('PREDICTION_NOT_FOUND', `There is no prediction ${id}: check the id and the data directory.`, { id });
  const chains: ModelChain[] = [];
  for (const ran of record.lineage.models) {
    const versions: ModelChain['versions'] = [];
    const seen = new Set<string>();
    let next: string | null = ran.version;
    while (next !== null && !seen.has(next)) {
      seen.add(next);
      const version = await models.version(ran.id, next);
      if (version === null) break;
      const { manifest: _manifest, ...rest } = version;
      const dataset = version.dataset === null ? null : await models.dataset(version.dataset);
      versions.push({ ...rest, datasetEntry: dataset === null ? null : { ...dataset, reviews: await models.reviewsOf(dataset.predictions) } });
      next = version.parent;
    }
    chains.push({ ran, versions });
  }
  return {
    prediction: { id: record.id, createdAt: record.createdAt, decision: record.decision, image: record.image.sha256 },
    pipeline: record.lineage.pipeline,
    models: chains,
  };
}

/** The chain as indented text. */
export function describeLineage(chain: LineageChain): string {
  const lines = [`prediction ${chain.prediction.id} (${chain.prediction.decision}, ${chain.prediction.createdAt}, image ${chain.prediction.image.slice(0, 12)})`];
  lines.push(`  pipeline ${chain.pipeline.id} ${chain.pipeline.version}`);
  for (const { ran, versions } of chain.models) {
    lines.push(`    ${ran.id}@${ran.version} ran in ${ran.lifecycle ?? 'production'} (weights ${ran.sha256.slice(0, 12)}, preprocessing ${ran.preprocessHash.slice(0, 12)})`);
    versions.forEach((version, depth) => {
      const indent = '      '.repeat(1) + '  '.repeat(depth);
      lines.push(`${indent}${depth === 0 ? 'is' : 'from'} ${version.model}@${version.version} (${version.origin}${version.parent === null ? '' : `, parent ${version.parent}`})`);
      if (version.dataset !== null) {
        const entry = version.datasetEntry;
        if (entry === null) lines.push(`${indent}  dataset ${version.dataset} (not exported from this data directory)`);
        else {
          const answered = entry.reviews.filter((r) => r.answeredAt !== null);
          lines.push(`${indent}  dataset ${entry.id.slice(0, 12)} (${entry.format}, ${entry.predictions.length} pages, exported ${entry.createdAt})`);
          lines.push(`${indent}    from ${answered.length} reviews: ${answered.map((r) => `${r.taskId} (${r.verdict})`).slice(0, 10).join(', ')}${answered.length > 10 ? ', ...' : ''}`);
        }
      }
    });
  }
  return `${lines.join('\n')}\n`;
}
