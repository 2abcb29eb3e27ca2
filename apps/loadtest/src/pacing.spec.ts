// Unit tests of the pacer: even spacing, stagger, held requests and stop, on a fake clock.
import { describe, expect, it } from '@jest/globals';

import { Pacer, type PacedClient, type PacerClock } from './pacing.js';

/** A clock whose time moves only when told, running due timers in order. */
class FakeClock implements PacerClock {
  t = 1000;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private ids = 0;
  now = () => this.t;
  setTimer = (fn: () => void, ms: number) => {
    const id = ++this.ids;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  };
  clearTimer = (id: unknown) => {
    this.timers = this.timers.filter((t) => t.id !== id);
  };
  /** Moves to `to`, firing every timer due by then at its own time. */
  advance(to: number) {
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > to) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = to;
  }
  get pending() {
    return this.timers.length;
  }
}

/** A client that records when it sent; `answer()` plays autocannon's "response, then next request". */
class FakeClient implements PacedClient {
  sentAt: number[] = [];
  timeoutsPushedTo: number[] = [];
  destroyed = false;
  timeoutTicker = { reschedule: (ms: number) => void this.timeoutsPushedTo.push(ms) };
  constructor(private readonly clock: FakeClock) {}
  _doRequest(): void {
    this.sentAt.push(this.clock.t);
  }
  answer(): void {
    this._doRequest();
  }
}

const setup = (rate: number, connections: number) => {
  const clock = new FakeClock();
  const pacer = new Pacer(rate, connections, 30_000, clock);
  const clients = Array.from({ length: connections }, () => new FakeClient(clock));
  for (const c of clients) {
    pacer.attach(c);
    c._doRequest(); // autocannon sends a first request as it builds the client
  }
  return { clock, pacer, clients };
};

describe('Pacer', () => {
  it('sends nothing until started, then one request every 1/rate s across the connections, each connection every n/rate s', () => {
    const { clock, pacer, clients } = setup(100, 4);
    expect(clients.every((c) => c.sentAt.length === 0)).toBe(true);
    pacer.start();
    // Answered at once each time: the schedule alone sets the pace.
    for (let t = 1000; t <= 2000; t += 1) {
      clock.advance(t);
      for (const c of clients) if (c.sentAt.length > 0 && c.sentAt.at(-1) === t) c.answer();
    }
    const all = clients.flatMap((c) => c.sentAt).sort((a, b) => a - b);
    // 1 s at 100/s from t=1000: due at 1000, 1010, ..., 2000 (an answer schedules the next at once, so
    // each connection also has its next request waiting on a timer).
    expect(all.length).toBe(101);
    const gaps = all.slice(1).map((t, i) => t - all[i]!);
    expect(new Set(gaps)).toEqual(new Set([10]));
    for (const [i, c] of clients.entries()) {
      expect(c.sentAt[0]).toBe(1000 + i * 10);
      expect(new Set(c.sentAt.slice(1).map((t, k) => t - c.sentAt[k]!))).toEqual(new Set([40]));
    }
    // Every wait pushed the request timeout back by the wait (so it never fires for a request not sent yet).
    expect(clients[0]!.timeoutsPushedTo.every((ms) => ms > 30_000 && ms <= 30_040)).toBe(true);
  });

  it('sends a request held back by a slow answer as soon as it comes, and counts the time held in its latency', () => {
    const { clock, pacer, clients } = setup(100, 1);
    const [c] = clients as [FakeClient];
    pacer.start();
    expect(c.sentAt).toEqual([1000]);
    expect(pacer.heldMs(c)).toBe(0);
    // The first answer takes 35 ms: the requests due at 1010, 1020 and 1030 are late.
    clock.advance(1035);
    c.answer();
    expect(c.sentAt.at(-1)).toBe(1035);
    expect(pacer.heldMs(c)).toBe(25); // due at 1010
    c.answer(); // answered at once: the one due at 1020 goes now, 15 ms late
    expect(pacer.heldMs(c)).toBe(15);
    c.answer();
    expect(pacer.heldMs(c)).toBe(5);
    // Caught up: the next (due 1040) waits for its time, and is not late.
    c.answer();
    expect(c.sentAt.at(-1)).toBe(1035);
    expect(clock.pending).toBe(1);
    clock.advance(1040);
    expect(c.sentAt.at(-1)).toBe(1040);
    expect(pacer.heldMs(c)).toBe(0);
    expect(c.sentAt).toEqual([1000, 1035, 1035, 1035, 1040]);
  });

  it('for the drain sends every waiting request at once, then keeps to the pace; stop cancels what waits', () => {
    const { clock, pacer, clients } = setup(10, 2);
    pacer.start();
    clock.advance(1000);
    for (const c of clients) if (c.sentAt.length) c.answer();
    expect(clock.pending).toBe(2); // client 0's second request (due 1200) and client 1's first (due 1100)
    clock.advance(1050);
    pacer.sendWaiting();
    expect(clients.map((c) => c.sentAt)).toEqual([[1000, 1050], [1050]]);
    expect(clock.pending).toBe(0);
    clients[0]!.answer(); // its next is due at 1400
    expect(clients[0]!.sentAt).toEqual([1000, 1050]);
    clock.advance(1400);
    expect(clients[0]!.sentAt).toEqual([1000, 1050, 1400]);

    const other = setup(10, 1);
    other.pacer.start();
    other.clients[0]!.answer();
    expect(other.clock.pending).toBe(1);
    other.pacer.stop();
    other.clock.advance(5000);
    other.clients[0]!.answer();
    expect(other.clock.pending).toBe(0);
    expect(other.clients[0]!.sentAt).toEqual([1000]);
  });

  it('refuses a rate or connection count that is not positive', () => {
    expect(() => new Pacer(0, 4, 1000)).toThrow('rate');
    expect(() => new Pacer(10, 0, 1000)).toThrow('connections');
  });
});
