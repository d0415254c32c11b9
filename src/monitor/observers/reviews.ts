import type { MonitorMetrics } from '../metrics.js';
import { keepRecent } from '../recent.js';

/** What the review module reports of one answered review. */
export interface ReviewOutcome {
  /** The version of the model whose output was reviewed, e.g. "ppocrv4-rec@4.0.0". */
  modelVersion: string;
  /** True when the person changed the model's output. */
  overridden: boolean;
}

/** Figures of one model version, measured from reviews (production) or on a held-out set (lab). */
export interface AccuracyFigure {
  modelVersion: string;
  production?: number;
  lab?: number;
}

export interface OverrideFigure {
  modelVersion: string;
  reviews: number;
  rate: number;
}

const RECENT_REVIEWS = 500;

/** Override rates and accuracy per model version, from the answers people give. */
export class ReviewStatistics {
  private readonly reviews = new Map<string, boolean[]>();
  private readonly figures = new Map<string, AccuracyFigure>();

  constructor(
    private readonly metrics: MonitorMetrics,
    /** The override rate is taken over this many recent reviews of a model version (`alerts.overrideRate.window`). */
    private readonly window: number,
  ) {}

  reviewed(outcome: ReviewOutcome): void {
    const labels = { model_version: outcome.modelVersion };
    this.metrics.reviews.inc(labels);
    if (outcome.overridden) this.metrics.overrides.inc(labels);
    const list = this.reviews.get(outcome.modelVersion) ?? [];
    keepRecent(list, outcome.overridden, RECENT_REVIEWS);
    this.reviews.set(outcome.modelVersion, list);
    const figure = this.overrides().find((f) => f.modelVersion === outcome.modelVersion);
    this.metrics.overrideRate.set(labels, figure?.rate ?? 0);
  }

  measured(figure: AccuracyFigure): void {
    const merged = { ...this.figures.get(figure.modelVersion), ...figure };
    this.figures.set(figure.modelVersion, merged);
    if (merged.production !== undefined) this.metrics.accuracy.set({ model_version: figure.modelVersion, source: 'production' }, merged.production);
    if (merged.lab !== undefined) this.metrics.accuracy.set({ model_version: figure.modelVersion, source: 'lab' }, merged.lab);
  }

  /** Override rate of each model version over its last `window` reviews. */
  overrides(): OverrideFigure[] {
    return [...this.reviews.entries()].map(([modelVersion, list]) => {
      const recent = list.slice(-this.window);
      return { modelVersion, reviews: recent.length, rate: recent.filter(Boolean).length / Math.max(1, recent.length) };
    });
  }

  accuracy(): AccuracyFigure[] {
    return [...this.figures.values()];
  }
}
