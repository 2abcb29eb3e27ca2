// Declares, on each route, the scope a token needs and how a sensor-prefix-limited token is checked there.
import { applyDecorators, SetMetadata } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';

import type { Scope } from './token.js';

/** The name of the bearer security scheme in the OpenAPI document (Swagger UI's Authorize button). */
export const BEARER_SCHEME = 'token';

/** Where the sensors a request touches are, for a token limited to a sensor prefix. */
export type SensorsIn =
  /** The JSON body: a reading or an array of readings, each with `sensorId`. */
  | 'body'
  /** One query parameter naming the sensor. */
  | { query: string }
  /**
   * Readings the route parses from a body the guard cannot read (line protocol, OTLP, NDJSON): the route checks
   * each one's sensor with `checkReadingSensors` before anything is published.
   */
  | 'readings';

/** `any`: every valid token, whatever its scope or sensor prefix (routes about the caller itself). */
export type RouteScope = Scope | 'any';

export interface RouteAccess {
  scope: RouteScope;
  /** Absent: a prefix-limited token is refused on this route (it could reach other sensors' data). */
  sensors?: SensorsIn;
}

export const ROUTE_ACCESS = 'funnel:route-access';

/**
 * The scope a route needs (`admin` implies `read` and `write`). A route without this decorator needs `admin`:
 * a new route is closed to read and write tokens until it says what it needs. `any` admits every valid token
 * (routes about the caller itself). Documents 401, 403 and 429.
 */
export function RequireScope(
  scope: RouteScope,
  options: { sensors?: SensorsIn } = {},
): MethodDecorator & ClassDecorator {
  const access: RouteAccess = { scope, ...options };
  return applyDecorators(
    SetMetadata(ROUTE_ACCESS, access),
    ApiBearerAuth(BEARER_SCHEME),
    ApiUnauthorizedResponse({
      description: 'No token, a malformed Authorization header, or a token that is unknown, revoked or expired',
    }),
    ApiForbiddenResponse({ description: forbiddenWhen(scope, options.sensors) }),
    ApiTooManyRequestsResponse({
      description: 'Rate limit reached, or too many failed authentications from this address; see Retry-After',
      headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } },
    }),
  );
}

function forbiddenWhen(scope: RouteScope, sensors: SensorsIn | undefined): string {
  // Listed on every protected route for a uniform document, though an `any` route never refuses a valid token.
  if (scope === 'any') return 'Not answered to a valid token: every scope and sensor prefix may use this route';
  return sensors
    ? `The token lacks the ${scope} scope, or names a sensor outside its sensor prefix (nothing is stored or read)`
    : `The token lacks the ${scope} scope, or is limited to a sensor prefix (such tokens cannot use this route)`;
}
