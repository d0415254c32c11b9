import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));

export interface CliOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `visionops <args>` from the sources, as a user would run the built command, and collects what it printed. */
export function visionops(...args: string[]): Promise<CliOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts `visionops <args>` from the sources and kills it with SIGKILL once the file `watched` holds `lines` complete lines. */
export function visionopsKilledAfter(lines: number, watched: string, ...args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: repo, stdio: 'ignore' });
    const watch = setInterval(() => {
      let written = 0;
      try {
        written = readFileSync(watched, 'utf8').split('\n').length - 1;
      } catch {
        return;
      }
      if (written >= lines) child.kill('SIGKILL');
    }, 20);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearInterval(watch);
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`visionops ${args[0]} ended by itself (code ${code}) before ${watched} held ${lines} lines: give it more to do`));
    });
  });
}
