import { VisionopsError } from '../core/errors.js';
import { megapixels } from './limits.js';

export interface AdmissionLimits {
  /** Most pixels decoding at once, summed over every image in flight. */
  budget: number;
  /** How long an image waits for room before it is refused. */
  waitMs: number;
}

/** Gives the pixels back to the budget; calling it again does nothing. */
export type Release = () => void;

interface Waiter {
  pixels: number;
  budget: number;
  admit: () => void;
}

/**
 * An admission budget of decoded pixels shared by every decode in the process: an image's pixels
 * (from its header) are counted before it is decoded and given back when its frame is made, so
 * concurrent uploads cannot claim more memory together than the budget allows. Waiters are
 * admitted in arrival order, so a large image is not starved by a stream of small ones; an image
 * alone is always admitted, whatever its size, since the per-image limit (`ingest.maxPixels`)
 * already bounds it.
 */
export class PixelAdmission {
  private inFlight = 0;
  private readonly queue: Waiter[] = [];

  /** Pixels currently admitted. */
  get pixelsInFlight(): number {
    return this.inFlight;
  }

  /** Images waiting for room. */
  get waiting(): number {
    return this.queue.length;
  }

  async admit(pixels: number, limits: AdmissionLimits): Promise<Release> {
    if (this.queue.length === 0 && this.fits(pixels, limits.budget)) return this.take(pixels);
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = {
        pixels,
        budget: limits.budget,
        admit: () => {
          clearTimeout(timer);
          resolve(this.take(pixels));
        },
      };
      const timer = setTimeout(() => {
        this.queue.splice(this.queue.indexOf(waiter), 1);
        reject(overloaded(pixels, this.inFlight, limits));
        // The head of the queue may have been the one blocking the others.
        this.admitWaiters();
      }, limits.waitMs);
      this.queue.push(waiter);
    });
  }

  private fits(pixels: number, budget: number): boolean {
    return this.inFlight === 0 || this.inFlight + pixels <= budget;
  }

  private take(pixels: number): Release {
    this.inFlight += pixels;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight -= pixels;
      this.admitWaiters();
    };
  }

  private admitWaiters(): void {
    while (this.queue.length > 0 && this.fits(this.queue[0].pixels, this.queue[0].budget)) {
      this.queue.shift()?.admit();
    }
  }
}

function overloaded(pixels: number, inFlight: number, limits: AdmissionLimits): VisionopsError {
  const retryAfterSeconds = Math.max(1, Math.ceil(limits.waitMs / 1000));
  return new VisionopsError(
    'OVERLOADED',
    `The server is decoding ${megapixels(inFlight)} of images already and this one needs ${megapixels(pixels)} more, ` +
      `over the budget of ${megapixels(limits.budget)} (\`ingest.inflightPixels\`); no room came within ${limits.waitMs} ms. ` +
      `Retry after ${retryAfterSeconds} s, or send a smaller image.`,
    { pixels, pixelsInFlight: inFlight, inflightPixels: limits.budget, retryAfterSeconds },
  );
}

/** The process's budget: decoded pixels are memory, and the process is what runs out of it. */
export const decodeAdmission = new PixelAdmission();
