import cliProgress from 'cli-progress';

export interface Progress {
  /** One more file done. */
  tick(file: string): void;
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
    { stream: process.stderr, format: '{bar} {value}/{total} {file}', hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  const bar = bars.create(total, 0, { file: '' });
  return {
    tick: (file) => bar.increment(1, { file }),
    note: (line) => bars.log(`${line}\n`),
    stop: () => bars.stop(),
  };
}
