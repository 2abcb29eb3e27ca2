// The auth lib as a module: the token store, the global guard, the admin-token bootstrap, the token endpoints.
import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Collection } from 'mongodb';
import type { Connection } from 'mongoose';

import { FunnelConfig } from '@funnel/config';

import { AdminTokenBootstrap } from './admin-token.bootstrap.js';
import { AuthGuard } from './auth.guard.js';
import { Authenticator } from './authenticator.js';
import { TokenSelfController } from './token-self.controller.js';
import { TokensController } from './tokens.controller.js';
import { tokensCollection, TokensRepository, type TokenDoc } from './tokens.repository.js';

/** Tokens over the process's MongoDB connection (the storage lib's), and the guard in front of every route. */
@Module({})
export class AuthModule {
  /** `tokenRoutes`: serve the admin token endpoints (the roles that serve the REST API). */
  static forRoot(options: { tokenRoutes: boolean }): DynamicModule {
    return {
      module: AuthModule,
      controllers: options.tokenRoutes ? [TokenSelfController, TokensController] : [],
      providers: [
        {
          provide: TokensRepository,
          inject: [getConnectionToken(), FunnelConfig],
          useFactory: (connection: Connection, config: FunnelConfig) =>
            new TokensRepository(
              connection.collection(tokensCollection(config.MONGODB_COLLECTION)) as unknown as Collection<TokenDoc>,
            ),
        },
        Authenticator,
        AdminTokenBootstrap,
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
    };
  }
}
