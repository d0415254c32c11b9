import { VisionopsError, isVisionopsError } from '../../core/errors.js';
import { CircuitBreaker, type BreakerState } from './breaker.js';

/** Told of every remote call and health check, per endpoint: the monitor's remote backend metrics. */
export interface RemoteListener {
  /** One attempt on one endpoint: how long it took and how it ended. */
  attempt?(endpoint: string, model: string, seconds: number, outcome: 'ok' | 'error' | 'timeout'): void;
  /** An endpoint taken out of (false) or brought back into (true) rotation. */
  health?(endpoint: string, model: string, up: boolean): void;
  /** Requests sent to an endpoint and not answered yet. */
  outstanding?(endpoint: string, model: string, count: number): void;
}

/** One server of a pool, as the balancer sees it. */
export interface Endpoint {
  readonly url: string;
  outstanding: number;
  /** False once a health check failed or a connection was refused, until a health check succeeds. */
  up: boolean;
  readonly breaker: CircuitBreaker;
}

/** An endpoint's view for status pages and tests. */
export interface EndpointStatus {
  url: string;
  up: boolean;
  outstanding: number;
  breaker: BreakerState;
}

export interface PoolOptions {
  /** The model's name in the metrics' labels. */
  model: string;
  timeoutMs: number;
  attempts: number;
  breaker: { failures: number; openMs: number };
  healthCheck: { intervalMs: number; timeoutMs: number };
  listener?: RemoteListener;
}

/** An error the endpoint answered for the request itself (a 4xx): another endpoint would answer the same, so it is not retried. */
export class RequestRefused extends Error {}

/**
 * Endpoints serving one model, with least-outstanding-requests balancing (ties taken in turn),
 * active health checks, a circuit breaker per endpoint, a timeout per attempt and retries on
 * another endpoint.
 */
export class EndpointPool {
  readonly endpoints: Endpoint[];
  private turn = 0;
  private timer: NodeJS.Timeout | undefined;
  private checking = false;

  constructor(
    urls: string[],
    private readonly options: PoolOptions,
  ) {
    this.endpoints = urls.map((url) => ({ url: url.replace(/\/+$/, ''), outstanding: 0, up: true, breaker: new CircuitBreaker(options.breaker.failures, options.breaker.openMs) }));
    for (const endpoint of this.endpoints) options.listener?.health?.(endpoint.url, options.model, true);
  }

  status(): EndpointStatus[] {
    return this.endpoints.map((endpoint) => ({ url: endpoint.url, up: endpoint.up, outstanding: endpoint.outstanding, breaker: endpoint.breaker.state }));
  }

  /** The endpoint with the fewest requests outstanding among those up and not tripped, not in `tried`. */
  private pick(tried: Set<Endpoint>): Endpoint | null {
    const n = this.endpoints.length;
    let best: Endpoint | null = null;
    for (let k = 0; k < n; k++) {
      const endpoint = this.endpoints[(this.turn + k) % n];
      if (tried.has(endpoint) || !endpoint.up || !endpoint.breaker.allows()) continue;
      if (best === null || endpoint.outstanding < best.outstanding) best = endpoint;
    }
    this.turn = (this.turn + 1) % n;
    return best;
  }

  /**
   * Runs `work` on an endpoint, and again on another when it fails or times out, up to
   * `attempts` endpoints. Throws BACKEND_UNAVAILABLE when no endpoint answered, INFERENCE_FAILED
   * when one refused the request itself.
   */
  async call<T>(work: (url: string, signal: AbortSignal) => Promise<T>): Promise<T> {
    const tried = new Set<Endpoint>();
    let last: unknown = null;
    for (let attempt = 0; attempt < this.options.attempts; attempt++) {
      const endpoint = this.pick(tried);
      if (endpoint === null) break;
      tried.add(endpoint);
      endpoint.breaker.enter();
      this.setOutstanding(endpoint, +1);
      const started = performance.now();
      const signal = AbortSignal.timeout(this.options.timeoutMs);
      try {
        const result = await work(endpoint.url, signal);
        endpoint.breaker.success();
        this.options.listener?.attempt?.(endpoint.url, this.options.model, (performance.now() - started) / 1000, 'ok');
        return result;
      } catch (error) {
        const seconds = (performance.now() - started) / 1000;
        if (error instanceof RequestRefused) {
          endpoint.breaker.success();
          this.options.listener?.attempt?.(endpoint.url, this.options.model, seconds, 'error');
          throw new VisionopsError('INFERENCE_FAILED', `The remote server ${endpoint.url} refused model ${this.options.model}'s request (${error.message}): check that it serves the same model (runtime.remote).`, {
            endpoint: endpoint.url,
            model: this.options.model,
          });
        }
        last = error;
        endpoint.breaker.failure();
        if (unreachable(error)) this.setUp(endpoint, false);
        this.options.listener?.attempt?.(endpoint.url, this.options.model, seconds, signal.aborted ? 'timeout' : 'error');
      } finally {
        this.setOutstanding(endpoint, -1);
      }
    }
    const reason = last === null ? 'every endpoint is down or its circuit open' : `last error: ${describe(last)}`;
    throw new VisionopsError('BACKEND_UNAVAILABLE', `No remote server of model ${this.options.model} answered (${reason}): retry shortly, or check runtime.remote's endpoints.`, {
      model: this.options.model,
      endpoints: this.status(),
      retryAfterSeconds: 1,
    });
  }

  /** Asks `check` of every endpoint each `healthCheck.intervalMs`: an endpoint is up while its check passes. */
  startHealthChecks(check: (url: string, signal: AbortSignal) => Promise<boolean>): void {
    const round = async () => {
      if (this.checking) return;
      this.checking = true;
      await Promise.all(
        this.endpoints.map(async (endpoint) => {
          let up = false;
          try {
            up = await check(endpoint.url, AbortSignal.timeout(this.options.healthCheck.timeoutMs));
          } catch {
            up = false;
          }
          this.setUp(endpoint, up);
        }),
      );
      this.checking = false;
    };
    this.timer = setInterval(() => void round(), this.options.healthCheck.intervalMs);
    this.timer.unref();
    void round();
  }

  close(): void {
    clearInterval(this.timer);
  }

  private setUp(endpoint: Endpoint, up: boolean): void {
    if (endpoint.up !== up) this.options.listener?.health?.(endpoint.url, this.options.model, up);
    endpoint.up = up;
  }

  private setOutstanding(endpoint: Endpoint, change: number): void {
    endpoint.outstanding += change;
    this.options.listener?.outstanding?.(endpoint.url, this.options.model, endpoint.outstanding);
  }
}

/** Whether the endpoint could not be reached at all (refused, reset, no route), rather than answering late or wrongly. */
function unreachable(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown } }).cause;
  const code = typeof cause?.code === 'string' ? cause.code : '';
  return ['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'UND_ERR_SOCKET'].includes(code);
}

function describe(error: unknown): string {
  if (isVisionopsError(error)) return error.message;
  const cause = (error as { cause?: { message?: unknown } }).cause;
  const message = error instanceof Error ? error.message : String(error);
  return typeof cause?.message === 'string' ? `${message}: ${cause.message}` : message;
}
