/** Settings of the sudden-change test on a rate (rejects, reviews, errors). */
export interface RateShiftSettings {
  /** The recent events judged... */
  recent: number;
  /** ...against this many events before them. */
  baseline: number;
  /** A shift is sudden when the recent rate is this many binomial standard errors from the baseline... */
  z: number;
  /** ...and at least this far from it in absolute terms. */
  minChange: number;
}

export interface RateShift {
  rate: number;
  baseline: number;
  z: number;
  shifted: boolean;
  events: number;
}

/**
 * A rate watched for sudden change: the share of the last `recent` events against the share of
 * the `baseline` events before them, as a one-sample binomial z-score. A slow creep moves the
 * baseline with it and is left to the alert thresholds; a step stands out.
 */
export class RateWatch {
  private readonly events: boolean[] = [];

  constructor(private readonly settings: RateShiftSettings) {}

  record(happened: boolean): void {
    this.events.push(happened);
    if (this.events.length > this.settings.recent + this.settings.baseline) this.events.shift();
  }

  /** The share of the last `count` events (all of them when fewer). */
  share(count = this.settings.recent): number {
    const recent = this.events.slice(-count);
    return recent.length === 0 ? 0 : recent.filter(Boolean).length / recent.length;
  }

  current(): RateShift {
    const { recent, z: zThreshold, minChange } = this.settings;
    const recentEvents = this.events.slice(-recent);
    const before = this.events.slice(0, Math.max(0, this.events.length - recent));
    const rate = recentEvents.length === 0 ? 0 : recentEvents.filter(Boolean).length / recentEvents.length;
    // Laplace's rule keeps a spotless baseline from making one event look infinitely unlikely.
    const baseline = (before.filter(Boolean).length + 1) / (before.length + 2);
    const z = (rate - baseline) / Math.sqrt((baseline * (1 - baseline)) / Math.max(1, recentEvents.length));
    const judged = recentEvents.length >= recent && before.length >= recent;
    return { rate, baseline, z, shifted: judged && Math.abs(z) >= zThreshold && Math.abs(rate - baseline) >= minChange, events: this.events.length };
  }
}
