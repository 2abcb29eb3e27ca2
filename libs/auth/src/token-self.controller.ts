// GET /v1/tokens/self: who the caller is, so a client (the web console) offers only what its token may do.
import { Controller, Get, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';

import { FunnelConfig } from '@funnel/config';

import { requestPrincipal } from './auth.guard.js';
import { RequireScope } from './require-scope.decorator.js';
import { scopeAllows, SCOPES, type Scope } from './token.js';

class TokenSelfDto {
  @ApiProperty({
    example: 'fnl_3f9a0c1b2d4e',
    nullable: true,
    type: String,
    description: "The token's public id; null when the api runs with AUTH=off",
  })
  id!: string | null;

  @ApiProperty({
    enum: SCOPES,
    isArray: true,
    example: ['read'],
    description: 'Every scope the token may use (admin implies read and write); all of them with AUTH=off',
  })
  scopes!: Scope[];

  @ApiProperty({
    example: 'plant-a.',
    nullable: true,
    type: String,
    description: 'Only sensors whose id starts with this; null for every sensor',
  })
  sensorPrefix!: string | null;
}

@ApiTags('tokens')
@Controller('v1/tokens/self')
export class TokenSelfController {
  constructor(private readonly config: FunnelConfig) {}

  @Get()
  @RequireScope('any')
  @ApiOperation({ summary: "The caller's own token: id, scopes and sensor prefix (any valid token; read-only)" })
  @ApiOkResponse({ type: TokenSelfDto })
  self(@Req() request: FastifyRequest): TokenSelfDto {
    const principal = requestPrincipal(request);
    if (this.config.AUTH === 'off' || !principal) return { id: null, scopes: [...SCOPES], sensorPrefix: null };
    return {
      id: principal._id,
      scopes: SCOPES.filter((scope) => scopeAllows(principal.scope, scope)),
      sensorPrefix: principal.sensorPrefix ?? null,
    };
  }
}
