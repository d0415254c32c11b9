import type { Command } from 'commander';
import { commandConfig, withConfigOptions, type ConfigOptions } from '../options.js';

/** `visionops config`: the effective configuration, every default included, as JSON on stdout. */
export function registerConfig(program: Command): void {
  withConfigOptions(program.command('config'))
    .description('print the effective configuration (defaults, then --config, then --set) as JSON')
    .action((options: ConfigOptions) => {
      process.stdout.write(`${JSON.stringify(commandConfig(options), null, 2)}\n`);
    });
}
