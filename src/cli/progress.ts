import cliProgress from 'cli-progress';

export interface Progress {
  /** One more file done; `skipped` is how many so far were found already recorded (shown once there are some). */
  tick(file: string, skipped?: number): void;
  /** A line for the person watching (a file that failed), printed above the bar. */
  note(line: string): void;
  stop(): void;
}

/**
 * A progress bar on stderr, so stdout stays for results. cli-progress draws nothing and holds
 * back its log when stderr is not a terminal, so there notes go straight to stderr instead.
 */
export function createProgress(total: number): Progress {
  if (!process.stderr.isTTY) {
    return { tick: () => undefined, note: (line) => void process.stderr.write(`${line}\n`), stop: () => undefined };
  }
  const bars = new cliProgress.MultiBar(
    { stream: process.stderr, format: '{bar} {value}/{total}{skipped} {file}', hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  const bar = bars.create(total, 0, { file: '', skipped: '' });
  return {
    tick: (file, skipped = 0) => bar.increment(1, { file, skipped: skipped > 0 ? ` (${skipped} already recorded, skipped)` : '' }),
    note: (line) => bars.log(`${line}\n`),
    stop: () => bars.stop(),
  };
}
