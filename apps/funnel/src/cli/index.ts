// The operator commands of `node dist/apps/funnel/src/main.js <command>`: one module per command, registered here.
import yargs, { type CommandModule } from 'yargs';

import type { FunnelConfig } from '@funnel/config';

import { tokensCommand } from './tokens.command.js';

/** Every command's module; a new command (e.g. `rollups`) is one more entry. */
function commands(config: () => FunnelConfig): CommandModule[] {
  return [tokensCommand(config)];
}

/** The names the commands answer to: main.ts hands argv here when its first word is one of them. */
export const COMMAND_NAMES: readonly string[] = commands(() => {
  throw new Error('not read');
}).map((command) => String(command.command).split(' ')[0]!);

/** Runs the command in `argv` (without node and script); resolves with the exit code. */
export async function runCli(argv: string[], config: () => FunnelConfig): Promise<number> {
  let failed = false;
  await yargs(argv)
    .scriptName('funnel')
    .command(commands(config))
    .demandCommand(1)
    .strict()
    .fail((message, error) => {
      failed = true;
      console.error(error ? error.message : `${message} (see --help)`);
    })
    .parseAsync()
    .catch((error: Error) => {
      failed = true;
      console.error(error.message);
    });
  return failed ? 1 : 0;
}
