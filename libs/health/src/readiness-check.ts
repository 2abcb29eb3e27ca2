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
