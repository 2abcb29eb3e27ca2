// The contract a feature module's readiness check fulfils, and the decorator that lets /health/ready find it.
import { DiscoveryService } from '@nestjs/core';

/** What one readiness check found; `details` are shown beside the status under the check's name. */
export interface Readiness {
  up: boolean;
  details?: Record<string, unknown>;
}

/** One dependency a role needs before it may report ready. */
export interface ReadinessCheck {
  /** The key of this dependency in /health/ready's answer. */
  readonly name: string;
  check(): Promise<Readiness>;
}

/**
 * Marks a provider as a readiness check: a feature module lists the check among its providers, and
 * /health/ready runs every marked provider of the modules the role runs.
 */
export const ReadinessCheck = DiscoveryService.createDecorator<void>();

export const up = (details?: Record<string, unknown>): Readiness => ({ up: true, details });
export const down = (details?: Record<string, unknown>): Readiness => ({ up: false, details });

/**
 * Set to true on a request (by whatever authenticates it) when its caller may see the details of each check:
 * versions, lag, error texts. Anyone else is told only up or down per dependency.
 */
export const HEALTH_DETAILS = 'funnelHealthDetails';

/** True when `request` was marked as allowed to see readiness details. */
export function mayReadHealthDetails(request: unknown): boolean {
  return (request as Record<string, unknown> | undefined)?.[HEALTH_DETAILS] === true;
}
