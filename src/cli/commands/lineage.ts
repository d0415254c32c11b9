import type { Command } from 'commander';
import { createVisionops } from '../../app/visionops.js';
import { describeLineage, lineageChain } from '../../registry/lineage.js';
import { EXIT } from '../exit-codes.js';
import { asString, commandConfig, withConfigOptions, type ConfigOptions } from '../options.js';

/** `visionops lineage <prediction id>`: prediction -> pipeline -> model versions -> parents -> dataset -> reviews. */
export function registerLineage(program: Command): void {
  withConfigOptions(program.command('lineage'))
    .description('the chain behind a prediction: pipeline, model versions and their stage, parents, the dataset each was made from and its reviews')
    .argument('<prediction>', 'a prediction id')
    .option('-d, --data <dir>', 'data directory (sets data.dir)')
    .option('--json', 'print JSON')
    .action(async (id: string, options: ConfigOptions & { data?: string; json?: boolean }) => {
      const config = commandConfig(options, { 'data.dir': asString(options.data) });
      const { stores, close } = await createVisionops(config, { scope: 'store' });
      try {
        const chain = await lineageChain(stores.predictions, stores.models, id);
        process.stdout.write(options.json ? `${JSON.stringify(chain)}\n` : describeLineage(chain));
        process.exitCode = EXIT.ok;
      } finally {
        await close();
      }
    });
}
