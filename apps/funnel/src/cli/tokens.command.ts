// `tokens create|list|revoke`: token management straight against MongoDB, for operators and scripts.
import { MongoClient } from 'mongodb';
import type { Argv, CommandModule } from 'yargs';

import { SCOPES, shownToken, tokenRequest, tokensCollection, TokensRepository, type TokenDoc } from '@funnel/auth';
import type { FunnelConfig } from '@funnel/config';

/** Runs `work` with a repository over the configured MongoDB; the client is closed afterwards. */
async function withTokens<T>(config: FunnelConfig, work: (tokens: TokensRepository) => Promise<T>): Promise<T> {
  const client = new MongoClient(config.MONGODB_URI, { serverSelectionTimeoutMS: 5_000 });
  try {
    await client.connect();
    const collection = client.db().collection<TokenDoc>(tokensCollection(config.MONGODB_COLLECTION));
    return await work(new TokensRepository(collection));
  } finally {
    await client.close();
  }
}

interface CreateArgs {
  scope: string;
  'sensor-prefix'?: string;
  expires?: string;
  description?: string;
}

/** The `tokens` command and its subcommands; `config` is read once, before any of them runs. */
export function tokensCommand(config: () => FunnelConfig): CommandModule {
  return {
    command: 'tokens <command>',
    describe: 'Create, list and revoke API tokens (in MONGODB_URI, collection <MONGODB_COLLECTION>_tokens)',
    builder: (yargs: Argv) =>
      yargs
        .command<CreateArgs>({
          command: 'create',
          describe: 'Create a token; the token itself is printed alone on the last line (shown only once)',
          builder: (y) =>
            y.options({
              scope: { type: 'string', choices: SCOPES, demandOption: true, describe: 'admin implies read and write' },
              'sensor-prefix': { type: 'string', describe: 'Only sensors whose id starts with this' },
              expires: { type: 'string', describe: 'Lifetime, e.g. 90d, 12h, 30m (default: no expiry)' },
              description: { type: 'string', describe: 'What the token is for' },
            }) as unknown as Argv<CreateArgs>,
          handler: async (args) => {
            const request = tokenRequest({
              scope: args.scope,
              sensorPrefix: args['sensor-prefix'],
              expires: args.expires,
              description: args.description,
            });
            if (typeof request === 'string') throw new Error(request);
            const { token, info } = await withTokens(config(), (tokens) => tokens.create(request));
            const shown = shownToken(info);
            console.log(`created token ${shown.id} (scope ${shown.scope}${describeLimits(shown)})`);
            console.log(token);
          },
        })
        .command({
          command: 'list',
          describe: 'List tokens: id (the visible prefix), scope, limits and state; never the tokens',
          handler: async () => {
            const list = await withTokens(config(), (tokens) => tokens.list());
            const now = new Date().toISOString();
            for (const token of list.map(shownToken)) {
              const state = token.revokedAt
                ? `revoked ${token.revokedAt}`
                : token.expiresAt && token.expiresAt <= now
                  ? `expired ${token.expiresAt}`
                  : 'active';
              console.log(
                [token.id, token.scope, state, describeLimits(token).slice(2) || '-', token.description ?? ''].join(
                  '\t',
                ),
              );
            }
            if (list.length === 0) console.log('no tokens');
          },
        })
        .command<{ id: string }>({
          command: 'revoke <id>',
          describe: 'Revoke a token by id; every api process refuses it within AUTH_CACHE_TTL_MS',
          builder: (y) => y.positional('id', { type: 'string', demandOption: true }) as unknown as Argv<{ id: string }>,
          handler: async (args) => {
            const found = await withTokens(config(), (tokens) => tokens.revoke(args.id));
            if (!found) throw new Error(`no token with id ${args.id}`);
            console.log(`revoked ${args.id}`);
          },
        })
        .demandCommand(1, 'name a tokens command: create, list or revoke'),
    handler: () => undefined,
  };
}

function describeLimits(token: { sensorPrefix?: string; expiresAt?: string }): string {
  return [
    token.sensorPrefix ? `, sensors ${token.sensorPrefix}*` : '',
    token.expiresAt ? `, expires ${token.expiresAt}` : '',
  ].join('');
}
