/** What the pacer needs of an autocannon client: its request method (replaced) and its timeout timer. */
export interface PacedClient {
  _doRequest(): void;
  timeoutTicker: { reschedule(ms: number): void };
  destroyed?: boolean;
}

export interface PacerClock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(timer: unknown): void;
}

const realClock: PacerClock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

interface Slot {
  /** When the connection's next request is due, in clock ms. */
  dueAt: number;
  /** How long the request in flight was held back past its due time by its connection's previous one. */
  heldMs: number;
  /** The timer that sends the next request at its due time, while the connection waits for it. */
  timer?: unknown;
  /** Sends the connection's next request now (autocannon's own method), unless the client is closed. */
  send: () => void;
  /** The client asked to send before the schedule started. */
  waiting: boolean;
}

/**
 * Spreads a request rate evenly over time, as wrk2 does. autocannon's own rate lets each connection send its
 * quota for the second back to back and then wait for the next second (autocannon issue #174): at half the
 * throughput a server can take, that is full load for half of each second and idle for the other half, so
 * the latency measured "at half the rate" is the latency under full load.
 *
 * Here connection i of n first sends at start + i/rate s (start: once every connection is set up), then
 * one request every n/rate s. A request whose connection is still awaiting the previous answer when it
 * falls due goes as soon as that answer arrives, and the time it was held back counts in its latency
 * (`heldMs`): without that, a server that stalls delays the very requests that would have measured the
 * stall (coordinated omission), and its tail looks better than what producers sending at that rate see.
 * A late timer of the load generator's own is not counted.
 */
export class Pacer {
  private readonly slots = new Map<PacedClient, Slot>();
  private readonly intervalMs: number;
  private startAt?: number;
  private stopped = false;

  constructor(
    private readonly rate: number,
    connections: number,
    private readonly timeoutMs: number,
    private readonly clock: PacerClock = realClock,
  ) {
    if (!(rate > 0) || !(connections > 0)) throw new Error(`pacing needs a rate and connections above 0`);
    this.intervalMs = (connections / rate) * 1000;
  }

  /**
   * Takes over the client's requests: each goes at its due time, or when the previous is answered if later.
   * Until `start`, a client's request waits (autocannon sends the first while it builds the next clients).
   */
  attach(client: PacedClient): void {
    const request = client._doRequest.bind(client);
    const send = () => {
      if (!client.destroyed) request();
    };
    const slot: Slot = { dueAt: (this.slots.size * 1000) / this.rate, heldMs: 0, send, waiting: false };
    this.slots.set(client, slot);
    client._doRequest = () => {
      if (this.stopped) return;
      if (this.startAt === undefined) {
        slot.waiting = true;
        return;
      }
      const wait = slot.dueAt - this.clock.now();
      slot.dueAt += this.intervalMs;
      if (wait <= 0) {
        slot.heldMs = -wait || 0; // never -0
        send();
        return;
      }
      // Keep autocannon's request timeout from counting the wait as time spent awaiting an answer.
      client.timeoutTicker.reschedule(wait + this.timeoutMs);
      slot.timer = this.clock.setTimer(() => {
        slot.timer = undefined;
        slot.heldMs = 0;
        send();
      }, wait);
    };
  }

  /**
   * Starts the schedule once every client is set up: building a connection's requests can take the load
   * generator a few ms per connection, time the first connections' requests would otherwise count as held.
   */
  start(): void {
    const startAt = this.clock.now();
    this.startAt = startAt;
    for (const [client, slot] of this.slots) {
      slot.dueAt += startAt;
      if (slot.waiting) {
        slot.waiting = false;
        client._doRequest();
      }
    }
  }

  /** Milliseconds the client's request in flight was held back past its due time (0 if sent on time). */
  heldMs(client: PacedClient): number {
    return this.slots.get(client)?.heldMs ?? 0;
  }

  /** For the drain: requests waiting for their time go now; later ones keep to the pace. */
  sendWaiting(): void {
    for (const slot of this.slots.values()) {
      if (slot.timer === undefined) continue;
      this.clock.clearTimer(slot.timer);
      slot.timer = undefined;
      slot.heldMs = 0;
      slot.send();
    }
  }

  /** Cancels every request waiting for its time. */
  stop(): void {
    this.stopped = true;
    for (const slot of this.slots.values()) {
      if (slot.timer !== undefined) this.clock.clearTimer(slot.timer);
      slot.timer = undefined;
    }
  }
}
