// `rollups rebuild --from … --to … [--sensor …]`: recomputes the rollup tiers of a range from the raw readings.
import { Logger, Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import cliProgress from 'cli-progress';
import type { Argv, CommandModule } from 'yargs';

import { FunnelConfig, FunnelConfigModule } from '@funnel/config';
import { parseTimestamp } from '@funnel/contracts';
import { kafkaClientConfig, LazyAdmin } from '@funnel/kafka';
import { StorageLifecycle, StorageModule, TierRebuild, type CommittedOffsets } from '@funnel/storage';

@Module({})
class RebuildModule {
  static forConfig(config: FunnelConfig): DynamicModule {
    return { module: RebuildModule, imports: [FunnelConfigModule.forRoot(config), StorageModule] };
  }
}

/** The group's committed offsets of every partition of the topic, asked of the broker each time. */
function committedOffsets(admin: LazyAdmin, config: FunnelConfig): CommittedOffsets {
  return () =>
    admin.run(async (a) => {
      const [ends, groups] = await Promise.all([
        a.fetchTopicOffsets(config.KAFKA_TOPIC),
        a.fetchOffsets({ groupId: config.KAFKA_GROUP_ID, topics: [config.KAFKA_TOPIC] }),
      ]);
      const committed = new Map<number, number>(ends.map((e) => [e.partition, -1]));
      for (const p of groups.find((g) => g.topic === config.KAFKA_TOPIC)?.partitions ?? []) {
        committed.set(p.partition, Number(p.offset));
      }
      return committed;
    });
}

function instant(name: string, text: string): number {
  const ms = parseTimestamp(/^\d+$/.test(text) ? Number(text) : text);
  if (ms === undefined) throw new Error(`--${name} must be an ISO-8601 instant with a zone or epoch ms (got ${text})`);
  return ms;
}

interface RebuildArgs {
  from: string;
  to: string;
  sensor?: string;
}

/** The `rollups` command (subcommand `rebuild`); `config` is read when it runs. */
export function rollupsCommand(config: () => FunnelConfig): CommandModule {
  return {
    command: 'rollups <command>',
    describe: 'Maintain the rollup tiers',
    builder: (args: Argv) =>
      args
        .command<RebuildArgs>({
          command: 'rebuild',
          describe: 'Recompute the minute, hour and day rollups of a range from the raw readings',
          builder: (y) =>
            y.options({
              from: {
                type: 'string',
                demandOption: true,
                describe: 'Start of the range (ISO-8601 or epoch ms), inclusive',
              },
              to: {
                type: 'string',
                demandOption: true,
                describe: 'End of the range (ISO-8601 or epoch ms), exclusive',
              },
              sensor: { type: 'string', describe: 'Only this sensor' },
            }) as unknown as Argv<RebuildArgs>,
          handler: async (args) => {
            process.exitCode = await rebuild(args, config());
          },
        })
        .demandCommand(1, 'name a subcommand: rebuild'),
    handler: () => undefined,
  };
}

/** Rebuilds the range; resolves to the process exit code. */
async function rebuild(args: RebuildArgs, config: FunnelConfig): Promise<number> {
  const from = instant('from', args.from);
  const to = instant('to', args.to);
  if (from >= to) throw new Error('--from must be before --to');
  const app = await NestFactory.createApplicationContext(RebuildModule.forConfig(config), {
    logger: ['error', 'warn'],
  });
  const admin = new LazyAdmin(kafkaClientConfig(config, 'rollups-rebuild'), 10_000);
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'rebuild |{bar}| {value}/{total} hours · {eta_formatted} left',
      noTTYOutput: true,
      notTTYSchedule: 2000,
    },
    cliProgress.Presets.shades_classic,
  );
  try {
    await app.init();
    const lifecycle = app.get(StorageLifecycle);
    for (let waited = 0; lifecycle.ready === undefined; waited += 250) {
      if (waited > 60_000) throw new Error('MongoDB did not become ready within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const hours = Math.ceil((to - from) / 3_600_000);
    bar.start(hours, 0);
    const halt =
      config.TIERS_HALT_AT === 'rebuild-written'
        ? async () => {
            bar.stop();
            new Logger('Rebuild').warn('halt point rebuild-written reached (TIERS_HALT_AT)');
            await new Promise(() => undefined);
          }
        : undefined;
    const result = await app.get(TierRebuild).rebuild({
      from,
      to,
      sensorId: args.sensor,
      committed: committedOffsets(admin, config),
      progress: (done) => bar.update(done),
      halt,
    });
    bar.stop();
    console.log(
      `rebuilt ${result.minutes} minutes from ${result.readings} readings over ${result.hours} hours` +
        (result.retries > 0 ? ` (${result.retries} hours read again after a concurrent compaction)` : ''),
    );
    return 0;
  } finally {
    bar.stop();
    await admin.disconnect();
    await app.close();
  }
}
