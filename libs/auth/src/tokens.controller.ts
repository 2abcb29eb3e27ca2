// Admin-only token management: POST /v1/tokens, GET /v1/tokens, DELETE /v1/tokens/:id.
import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { IsIn, IsString, Matches, MaxLength, ValidateIf } from 'class-validator';

import { MAX_SENSOR_ID_LENGTH, NAME_CHARACTERS } from '@funnel/contracts';

import { Authenticator } from './authenticator.js';
import { RequireScope } from './require-scope.decorator.js';
import { DURATION, parseDuration, SCOPES, type Scope } from './token.js';
import { TokensRepository, type TokenInfo, type TokenRequest } from './tokens.repository.js';

export const SENSOR_PREFIX_PATTERN = new RegExp(`^${NAME_CHARACTERS}{1,${MAX_SENSOR_ID_LENGTH}}$`);
export const SENSOR_PREFIX_RULE = `must be 1-${MAX_SENSOR_ID_LENGTH} of ${NAME_CHARACTERS}`;
export const EXPIRES_RULE = 'must be a duration such as 90d, 12h, 30m or 45s';

/** Checks what a token request asks for (shared by the endpoint and the CLI); the problem, or the request. */
export function tokenRequest(input: {
  scope: string;
  sensorPrefix?: string;
  expires?: string;
  description?: string;
}): TokenRequest | string {
  if (!(SCOPES as readonly string[]).includes(input.scope)) return `scope must be one of ${SCOPES.join(', ')}`;
  if (input.sensorPrefix !== undefined && !SENSOR_PREFIX_PATTERN.test(input.sensorPrefix)) {
    return `sensorPrefix ${SENSOR_PREFIX_RULE}`;
  }
  let expiresAt: Date | undefined;
  if (input.expires !== undefined) {
    const ms = parseDuration(input.expires);
    if (ms === undefined) return `expires ${EXPIRES_RULE}`;
    expiresAt = new Date(Date.now() + ms);
  }
  if (input.description !== undefined && input.description.length > 200) return 'description is longer than 200';
  return {
    scope: input.scope as Scope,
    sensorPrefix: input.sensorPrefix,
    description: input.description,
    expiresAt,
  };
}

/** Optional, but null is a value to refuse (the schema does not make these nullable), not a missing field. */
const IsOmittable = () => ValidateIf((_object: object, value: unknown) => value !== undefined);

class CreateTokenDto {
  @ApiProperty({ enum: SCOPES, example: 'write', description: 'admin implies read and write' })
  @IsIn(SCOPES)
  scope!: Scope;

  @ApiPropertyOptional({
    example: 'plant-a.',
    description: 'Only sensors whose id starts with this',
    pattern: SENSOR_PREFIX_PATTERN.source,
  })
  @IsOmittable()
  @IsString()
  @Matches(SENSOR_PREFIX_PATTERN, { message: `sensorPrefix ${SENSOR_PREFIX_RULE}` })
  sensorPrefix?: string;

  @ApiPropertyOptional({
    example: '90d',
    description: 'Lifetime: a number and s, m, h or d; none = no expiry',
    pattern: DURATION.source,
  })
  @IsOmittable()
  @IsString()
  expires?: string;

  @ApiPropertyOptional({ example: 'gateway of plant A', maxLength: 200 })
  @IsOmittable()
  @IsString()
  @MaxLength(200)
  description?: string;
}

class TokenInfoDto {
  @ApiProperty({ example: 'fnl_3f9a0c1b2d4e', description: 'Public id: the prefix of the token, safe to log' })
  id!: string;
  @ApiProperty({ enum: SCOPES })
  scope!: Scope;
  @ApiPropertyOptional()
  sensorPrefix?: string;
  @ApiPropertyOptional()
  description?: string;
  @ApiProperty()
  createdAt!: string;
  @ApiPropertyOptional()
  expiresAt?: string;
  @ApiPropertyOptional()
  revokedAt?: string;
}

class CreatedTokenDto extends TokenInfoDto {
  @ApiProperty({ description: 'The token itself: shown only in this answer, stored only as its SHA-256' })
  token!: string;
}

/** A token as the API and the CLI show it: never the hash, dates as ISO strings. */
export function shownToken(info: TokenInfo): TokenInfoDto {
  return {
    id: info._id,
    scope: info.scope,
    sensorPrefix: info.sensorPrefix,
    description: info.description,
    createdAt: info.createdAt.toISOString(),
    expiresAt: info.expiresAt?.toISOString(),
    revokedAt: info.revokedAt?.toISOString(),
  };
}

@ApiTags('tokens')
@Controller('v1/tokens')
@RequireScope('admin')
export class TokensController {
  constructor(
    private readonly tokens: TokensRepository,
    private readonly authenticator: Authenticator,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create a token (the answer holds it; it cannot be shown again)' })
  @ApiCreatedResponse({ type: CreatedTokenDto })
  @ApiBadRequestResponse({ description: 'Unknown scope, malformed sensor prefix or expiry' })
  async create(@Body() body: CreateTokenDto): Promise<CreatedTokenDto> {
    const request = tokenRequest(body);
    if (typeof request === 'string') throw new BadRequestException(request);
    const { token, info } = await this.tokens.create(request);
    return { ...shownToken(info), token };
  }

  @Get()
  @ApiOperation({ summary: 'Every token, newest first (ids and limits, never the tokens)' })
  @ApiOkResponse({ type: [TokenInfoDto] })
  async list(): Promise<TokenInfoDto[]> {
    return (await this.tokens.list()).map(shownToken);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a token: every api process refuses it within AUTH_CACHE_TTL_MS' })
  @ApiNoContentResponse({ description: 'Revoked (or revoked already)' })
  @ApiNotFoundResponse({ description: 'No token with this id' })
  async revoke(@Param('id') id: string): Promise<void> {
    if (!(await this.tokens.revoke(id))) throw new NotFoundException(`no token with id ${id.slice(0, 80)}`);
    this.authenticator.forget(id);
  }
}
