// Unit checks of pollUntil: resolves with the probe's value, names what it awaited on timeout, aborts early.
import { describe, expect, it } from '@jest/globals';

import { becomesTrue, pollUntil, PollTimeout } from './poll.js';

describe('pollUntil', () => {
  it('resolves with the first truthy answer', async () => {
    let calls = 0;
    await expect(
      pollUntil('the third call', () => (++calls === 3 ? 'yes' : undefined), { intervalMs: 1 }),
    ).resolves.toBe('yes');
    expect(calls).toBe(3);
  });

  it('counts a throwing probe as not yet and quotes its error on timeout', async () => {
    const error = await pollUntil(
      'a server',
      () => {
        throw new Error('ECONNREFUSED');
      },
      { timeoutMs: 20, intervalMs: 5 },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PollTimeout);
    expect((error as Error).message).toBe('timed out after 20 ms waiting for a server (last: ECONNREFUSED)');
  });

  it('stops at once when abortIf gives a reason', async () => {
    const error = await pollUntil('readiness', () => false, { timeoutMs: 60_000, abortIf: () => 'it exited' }).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).toBe('gave up waiting for readiness: it exited');
  });

  it('becomesTrue answers false instead of throwing on timeout', async () => {
    await expect(becomesTrue('never', () => false, { timeoutMs: 10, intervalMs: 2 })).resolves.toBe(false);
    await expect(becomesTrue('now', () => true)).resolves.toBe(true);
  });
});
