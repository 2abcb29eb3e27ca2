// At startup: the AUTH=off warning, and FUNNEL_ADMIN_TOKEN stored as the first admin token when none exists.
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';

import { FunnelConfig } from '@funnel/config';
import { down, ReadinessCheck, up, type Readiness } from '@funnel/health';

import { tokenId } from './token.js';
import { TokensRepository } from './tokens.repository.js';

const RETRY_MS = 2_000;

/**
 * Stores FUNNEL_ADMIN_TOKEN once MongoDB answers (retrying in the background while it does not), and is the
 * `auth` readiness check: a process is not ready before the admin token it was given can be used.
 */
@Injectable()
@ReadinessCheck()
export class AdminTokenBootstrap implements OnApplicationBootstrap, OnApplicationShutdown, ReadinessCheck {
  readonly name = 'auth';
  private readonly logger = new Logger('Auth');
  private done = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly config: FunnelConfig,
    private readonly tokens: TokensRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.AUTH === 'off') {
      this.logger.warn(
        'AUTH=off: every route is open to anyone who can reach this port; use it on a closed network only',
      );
    }
    if (this.config.FUNNEL_ADMIN_TOKEN === '' || this.config.AUTH === 'off') {
      this.done = true;
      return;
    }
    await this.tryStore();
  }

  onApplicationShutdown(): void {
    clearTimeout(this.timer);
  }

  async check(): Promise<Readiness> {
    return this.done ? up() : down();
  }

  private async tryStore(): Promise<void> {
    try {
      const stored = await this.tokens.ensureAdmin(this.config.FUNNEL_ADMIN_TOKEN);
      const id = tokenId(this.config.FUNNEL_ADMIN_TOKEN);
      this.logger.log(stored ? `stored FUNNEL_ADMIN_TOKEN as admin token ${id}` : 'an admin token exists already');
      this.done = true;
    } catch (error) {
      this.logger.warn(`cannot store FUNNEL_ADMIN_TOKEN yet (${(error as Error).message}); retrying`);
      this.timer = setTimeout(() => void this.tryStore(), RETRY_MS);
      this.timer.unref();
    }
  }
}
