// The one way Funnel's tooling and tests wait a fixed time (prefer pollUntil: wait on a condition, not a clock).

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
