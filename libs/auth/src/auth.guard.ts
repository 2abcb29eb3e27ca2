// The global guard: every HTTP route needs a token with its declared scope, except the probes (and /metrics if open).
import {
  ForbiddenException,
  HttpException,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
  type OnModuleInit,
} from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { FunnelConfig } from '@funnel/config';
import { HEALTH_DETAILS } from '@funnel/health';

import { Authenticator, type Principal } from './authenticator.js';
import { FailedAuthLimiter } from './failed-auth.limiter.js';
import { ROUTE_ACCESS, type RouteAccess, type SensorsIn } from './require-scope.decorator.js';
import { presentedToken, scopeAllows } from './token.js';

/** Probes stay open: orchestrators call them without credentials, and they say only up/down. */
const PROBES = /^\/health\/(live|ready)$/;
const METRICS = '/metrics';
/** Methods whose body Fastify never reads: the guard alone decides on them. */
const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** More failed authentications than this from one address in a minute get 429 until the minute is over. */
export const FAILED_AUTH_PER_MINUTE = 100;

type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

/** The token id a request was authenticated with, for its log line (never the token). */
export function requestTokenId(request: FastifyRequest): string | undefined {
  return requestPrincipal(request)?._id;
}

/** The stored token a request was authenticated with; undefined on open routes and with AUTH=off. */
export function requestPrincipal(request: FastifyRequest): Principal | undefined {
  return (request as AuthenticatedRequest).principal;
}

@Injectable()
export class AuthGuard implements CanActivate, OnModuleInit {
  private readonly failures = new FailedAuthLimiter(FAILED_AUTH_PER_MINUTE);

  constructor(
    private readonly reflector: Reflector,
    private readonly config: FunnelConfig,
    private readonly authenticator: Authenticator,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /**
   * The token of a request that carries a body is checked in Fastify's onRequest hook, before a byte of the
   * body is read: an anonymous 5 MiB upload is answered 401 at once instead of being buffered and parsed first.
   * Scope and sensor prefix are still decided by canActivate (the prefix check needs the parsed body).
   */
  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify?.addHook || this.config.AUTH === 'off') return;
    fastify.addHook('onRequest', async (request, reply) => {
      const route = request.routeOptions?.url;
      // Unknown routes answer 404 and bodyless methods have nothing to read: canActivate decides on those.
      if (route === undefined || BODYLESS.has(request.method) || this.isOpen(route)) return;
      try {
        (request as AuthenticatedRequest).principal = await this.authenticate(request, reply);
      } catch (error) {
        if (!(error instanceof HttpException)) throw error;
        // The body is left unread: the connection is closed after the answer, so a slow upload cannot hold it.
        return reply.code(error.getStatus()).header('connection', 'close').send(error.getResponse());
      }
    });
  }

  /** Routes anyone may call: the probes, and /metrics unless METRICS_AUTH=on. */
  private isOpen(route: string): boolean {
    return PROBES.test(route) || (route === METRICS && this.config.METRICS_AUTH === 'off');
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // Kafka handlers of the worker inherit the app's guards; they are not requests of a caller.
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const route = request.routeOptions?.url ?? request.url;
    if (PROBES.test(route)) {
      if (await this.isAdmin(request)) (request as unknown as Record<string, unknown>)[HEALTH_DETAILS] = true;
      return true;
    }
    if (this.config.AUTH === 'off') return true;
    const access: RouteAccess = this.reflector.getAllAndOverride<RouteAccess>(ROUTE_ACCESS, [
      context.getHandler(),
      context.getClass(),
    ]) ?? { scope: route === METRICS ? 'read' : 'admin' };
    if (route === METRICS && this.config.METRICS_AUTH === 'off') return true;

    // Set by the onRequest hook for requests with a body (authenticated before it was read).
    const principal =
      (request as AuthenticatedRequest).principal ??
      (await this.authenticate(request, context.switchToHttp().getResponse<FastifyReply>()));
    (request as AuthenticatedRequest).principal = principal;
    // `any` routes answer only about the caller, so neither the scope nor a sensor prefix limits them.
    if (access.scope === 'any') return true;
    if (!scopeAllows(principal.scope, access.scope)) {
      throw new ForbiddenException(
        `token ${principal._id} has the ${principal.scope} scope; this route needs ${access.scope}`,
      );
    }
    if (principal.sensorPrefix !== undefined) checkSensors(principal, access.sensors, request);
    return true;
  }

  /** For the open probes: true for an admin token (or with AUTH=off); never refuses, counts a failed token. */
  private async isAdmin(request: FastifyRequest): Promise<boolean> {
    if (this.config.AUTH === 'off') return true;
    const presented = presentedToken(request.headers.authorization);
    if (presented === undefined || this.failures.blockedFor(request.ip) > 0) return false;
    if ('problem' in presented) return false;
    const result = await this.authenticator.authenticate(presented.token).catch(() => undefined);
    if (result && 'refused' in result) this.failures.fail(request.ip);
    return result !== undefined && 'principal' in result && result.principal.scope === 'admin';
  }

  private async authenticate(request: FastifyRequest, reply: FastifyReply): Promise<Principal> {
    const address = request.ip;
    const wait = this.failures.blockedFor(address);
    if (wait > 0) {
      void reply.header('Retry-After', String(wait));
      throw new HttpException(
        { statusCode: 429, error: 'Too Many Requests', message: 'too many failed authentications; retry later' },
        429,
      );
    }
    const presented = presentedToken(request.headers.authorization);
    const refuse = (message: string): never => {
      this.failures.fail(address);
      void reply.header('WWW-Authenticate', 'Bearer realm="funnel"');
      throw new UnauthorizedException(message);
    };
    if (presented === undefined) return refuse('this route needs a token: send Authorization: Bearer <token>');
    if ('problem' in presented) return refuse(presented.problem);
    const result = await this.authenticator.authenticate(presented.token);
    if ('refused' in result) return refuse(result.refused);
    return result.principal;
  }
}

/**
 * For a route declared with `sensors: 'readings'`: refuses (403) a request of a prefix-limited token when one of
 * the sensors it parsed from the body is outside the prefix, before anything is published. `where(index)` names
 * the reading in the answer (`line 3`, `data point 2`). Nothing to check on open routes and with AUTH=off.
 */
export function checkReadingSensors(
  request: FastifyRequest,
  sensorIds: readonly unknown[],
  where: (index: number) => string,
  consequence = 'nothing was accepted',
): void {
  const prefix = requestPrincipal(request)?.sensorPrefix;
  if (prefix === undefined) return;
  const index = sensorIds.findIndex((id) => typeof id === 'string' && !id.startsWith(prefix));
  if (index >= 0) {
    throw new ForbiddenException(
      `${where(index)} names a sensor outside this token's prefix "${prefix}"; ${consequence}`,
    );
  }
}

/**
 * Refuses (403) a prefix-limited token that names a sensor outside its prefix, or uses a route that does not say
 * where its sensors are. Decided from the request alone, before anything is read or stored, so the answer is the
 * same whether or not such a sensor exists. Malformed sensor ids are left to the route's validation (400).
 */
function checkSensors(principal: Principal, sensors: SensorsIn | undefined, request: FastifyRequest): void {
  const prefix = principal.sensorPrefix!;
  const outside = (id: unknown) => typeof id === 'string' && !id.startsWith(prefix);
  if (sensors === undefined) {
    throw new ForbiddenException(`token ${principal._id} is limited to sensors "${prefix}*"; this route is not`);
  }
  // The route checks the readings once it parsed them (checkReadingSensors).
  if (sensors === 'readings') return;
  if (sensors === 'body') {
    const body = request.body;
    const readings = Array.isArray(body) ? body : [body];
    const index = readings.findIndex((r) => r !== null && typeof r === 'object' && outside(r.sensorId));
    if (index >= 0) {
      throw new ForbiddenException(
        `reading ${index} names a sensor outside this token's prefix "${prefix}"; nothing was accepted`,
      );
    }
    return;
  }
  const value = (request.query as Record<string, unknown> | undefined)?.[sensors.query];
  if ((Array.isArray(value) ? value : [value]).some(outside)) {
    throw new ForbiddenException(`${sensors.query} is outside this token's prefix "${prefix}"`);
  }
}
