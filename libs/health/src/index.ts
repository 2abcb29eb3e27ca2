// The public API of @funnel/health: the module and what a feature needs to contribute a readiness check.
export { HealthModule } from './health.module.js';
export { HEALTH_DETAILS, ReadinessCheck, down, up, type Readiness } from './readiness-check.js';
