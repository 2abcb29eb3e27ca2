// Helpers of the gate's and the coalescer's unit tests: watch a promise settle without awaiting it.

/** Lets pending promise callbacks (and timers of 0 ms) run. */
export const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** The settled state of a promise, without waiting for it. */
export function track<T>(promise: Promise<T>) {
  const state: { value?: T; error?: unknown; settled: boolean } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { value, settled: true }),
    (error: unknown) => Object.assign(state, { error, settled: true }),
  );
  return state;
}
