// Reads and validates every setting from the environment once, at boot.
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

import { FunnelConfig } from './funnel-config.js';
import { listSettings } from './setting.decorator.js';

/** A setting that failed validation at boot; the message names every bad setting and the value it had. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Reads every declared setting from `env` (defaults filled in), validates it, and returns a frozen config. */
export function loadConfig(env: Record<string, string | undefined> = process.env): FunnelConfig {
  const raw: Record<string, string | undefined> = {};
  for (const setting of listSettings()) {
    const given = env[setting.name];
    raw[setting.name] = given === undefined || given === '' ? setting.default : given;
  }
  const config = plainToInstance(FunnelConfig, raw);
  const errors = validateSync(config, { forbidUnknownValues: true });
  if (errors.length > 0) {
    const secret = new Set(
      listSettings()
        .filter((s) => s.secret)
        .map((s) => s.name),
    );
    const shown = (name: string) => (secret.has(name) ? '(hidden)' : JSON.stringify(raw[name]));
    throw new ConfigError(
      errors.map((e) => `${e.property}=${shown(e.property)}: ${Object.values(e.constraints ?? {}).join('; ')}`),
    );
  }
  return Object.freeze(config);
}
