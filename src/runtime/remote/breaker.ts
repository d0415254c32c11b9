export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * A circuit breaker for one endpoint: `failures` consecutive failures open it (no traffic) for
 * `openMs`; then one trial request is let through (half-open), whose success closes it and whose
 * failure opens it again for another `openMs`.
 */
export class CircuitBreaker {
  private consecutiveFailures = 0;
  private openedAt: number | null = null;
  private trialInFlight = false;

  constructor(
    private readonly failures: number,
    private readonly openMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): BreakerState {
    if (this.openedAt === null) return 'closed';
    return this.now() - this.openedAt >= this.openMs ? 'half-open' : 'open';
  }

  /** Whether a request may go to the endpoint now; when half-open, only the one trial may. */
  allows(): boolean {
    const state = this.state;
    return state === 'closed' || (state === 'half-open' && !this.trialInFlight);
  }

  /** Marks a request sent; the one sent while half-open is the trial. */
  enter(): void {
    if (this.state === 'half-open') this.trialInFlight = true;
  }

  success(): void {
    this.consecutiveFailures = 0;
    this.openedAt = null;
    this.trialInFlight = false;
  }

  failure(): void {
    this.consecutiveFailures++;
    const trialFailed = this.trialInFlight;
    this.trialInFlight = false;
    if (trialFailed || this.consecutiveFailures >= this.failures) this.openedAt = this.now();
  }
}
