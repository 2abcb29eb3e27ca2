/** Shared bits of the pages: the error banner, and a poller that re-runs a request every few seconds. */
import { useEffect, useRef, useState } from 'preact/hooks';

import { ApiError } from './api.js';

export function describeError(error: unknown): string {
  return error instanceof ApiError ? error.describe() : String((error as Error)?.message ?? error);
}

export function ErrorBanner({ error }: { error: unknown }) {
  if (error === undefined || error === null) return null;
  const status = error instanceof ApiError ? error.status : undefined;
  return (
    <p class="error" role="alert" data-status={status}>
      {describeError(error)}
    </p>
  );
}

/** Runs `load` now and every `intervalMs` (never two at once) while `enabled`; the latest answer or error. */
export function usePoll<T>(load: () => Promise<T>, intervalMs: number, deps: unknown[], enabled = true) {
  const [state, setState] = useState<{ value?: T; error?: unknown; at?: number }>({});
  const loader = useRef(load);
  loader.current = load;
  useEffect(() => {
    if (!enabled) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const value = await loader.current();
        if (!stopped) setState({ value, at: Date.now() });
      } catch (error) {
        if (!stopped) setState((prev) => ({ ...prev, error, at: Date.now() }));
      }
      if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [...deps, intervalMs, enabled]);
  return state;
}
