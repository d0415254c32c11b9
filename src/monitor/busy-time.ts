/** Microseconds of CPU the process has used so far (user + system). */
export type CpuReader = () => number;

const processCpu: CpuReader = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/**
 * CPU time of overlapping pieces of work: the process's CPU used between two moments is shared
 * equally among the pieces in flight then, so two predictions running together are each charged
 * half, and the sum over predictions is the process's busy time.
 */
export class BusyClock {
  private last: number;
  private readonly active = new Map<number, number>();
  private nextId = 1;

  constructor(private readonly read: CpuReader = processCpu) {
    this.last = read();
  }

  start(): number {
    this.settle();
    const id = this.nextId++;
    this.active.set(id, 0);
    return id;
  }

  /** The CPU seconds charged to the work since `start`. */
  finish(id: number): number {
    this.settle();
    const micros = this.active.get(id) ?? 0;
    this.active.delete(id);
    return micros / 1e6;
  }

  private settle(): void {
    const now = this.read();
    const used = now - this.last;
    this.last = now;
    if (this.active.size === 0) return;
    const share = used / this.active.size;
    for (const [id, micros] of this.active) this.active.set(id, micros + share);
  }
}
