import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';

/** The options every command takes to find its configuration. */
export interface ConfigOptions {
  config?: string;
  set: string[];
}

/** Adds `--config FILE` and repeatable `--set key.path=value` to a command. */
export function withConfigOptions(command: Command): Command {
  return command
    .option('-c, --config <file>', 'JSON configuration file (defaults apply to what it leaves out)')
    .option(
      '--set <key.path=value>',
      'override one setting, after the file; repeatable; the value is read as JSON when it parses, else as a string',
      (value: string, previous: string[]) => [...previous, value],
      [],
    );
}

/**
 * The effective configuration of a command: the file, its `--set`s, then the command's own flags
 * (`--port`, `--data`...) expressed as more `--set`s so they are validated the same way.
 */
export function commandConfig(options: ConfigOptions, flags: Record<string, string | undefined> = {}): Config {
  const flagSets = Object.entries(flags).flatMap(([path, value]) => (value === undefined ? [] : [`${path}=${value}`]));
  return loadConfig({ file: options.config, sets: [...options.set, ...flagSets] });
}

/** Quotes a flag's text as a JSON string, so `--data 123` stays the folder "123". */
export function asString(value: string | undefined): string | undefined {
  return value === undefined ? undefined : JSON.stringify(value);
}
