// A loopback TCP proxy that injects network faults (latency, throttling, held Kafka requests) for the fault suite.
import { EventEmitter } from 'node:events';
import net from 'node:net';

/**
 * A TCP proxy for injecting network faults between one Funnel process and a server it uses.
 *
 * - latency: every chunk is delivered `latencyMs` after it arrived (pipelined, like a long link, not a
 *   per-chunk serial delay), in both directions;
 * - throttle: all connections together forward at most `bytesPerSecond` in each direction (token bucket);
 * - Kafka request gate: with `kafkaFrames`, client-to-server bytes are cut into Kafka request frames
 *   (int32 size + request header starting with int16 api_key), and while `hold(apiKeys)` is on, the first
 *   frame of one of those api keys is parked, with everything after it on that connection (Kafka answers
 *   requests of a connection in order, so nothing may overtake it). `held` (apiKey, frame) is emitted
 *   when that happens.
 * - Lost answers: with `kafkaFrames` and `answerFrames`, after `dropAnswer(apiKeys, holdMs)` the next request of one of those api keys
 *   reaches the server, but its answer (matched by correlation id in the server-to-client frames) is never
 *   delivered: that lane stops there and the connection is cut `holdMs` later, so the client sees its request go
 *   unanswered, as after an ack lost on the network. `answer-dropped` (apiKey, correlationId) is emitted.
 *
 * Only loopback addresses are involved: the suite never talks to anything else.
 */
export class TcpProxy extends EventEmitter {
  latencyMs = 0;
  private readonly buckets = { up: new TokenBucket(), down: new TokenBucket() };
  private server?: net.Server;
  private readonly links = new Set<Link>();
  holdKeys = new Set<number>();
  /** Api keys whose next request's answer is dropped (one per dropAnswer call), and how long the link stays up. */
  dropAnswerKeys = new Set<number>();
  dropAnswerHoldMs = 0;
  private blocked = false;

  constructor(
    readonly name: string,
    readonly target: { host: string; port: number },
    private readonly listenPort = 0,
    readonly kafkaFrames = false,
    /** Also cut the server's answers into frames (needed by dropAnswer; whole frames are buffered, so opt-in). */
    readonly answerFrames = false,
  ) {
    super();
  }

  /** Listens on 127.0.0.1; resolves to the port. */
  async start(): Promise<number> {
    this.server = net.createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.listenPort, '127.0.0.1', () => resolve());
    });
    return this.port;
  }

  get port(): number {
    return (this.server?.address() as net.AddressInfo).port;
  }

  /** Connections currently open through the proxy. */
  get connections(): number {
    return this.links.size;
  }

  /** Slows the link down (0 = off). */
  slow({ latencyMs = 0, bytesPerSecond = 0 }: { latencyMs?: number; bytesPerSecond?: number }): void {
    this.latencyMs = latencyMs;
    this.buckets.up.rate = bytesPerSecond;
    this.buckets.down.rate = bytesPerSecond;
    for (const link of this.links) link.kick();
  }

  /** Parks the next client request with one of these Kafka api keys (see class comment). */
  hold(apiKeys: number[]): void {
    if (!this.kafkaFrames) throw new Error(`${this.name}: hold() needs kafkaFrames`);
    this.holdKeys = new Set(apiKeys);
  }

  /** Drops the answer to the next client request with one of these Kafka api keys (see class comment). */
  dropAnswer(apiKeys: number[], holdMs: number): void {
    if (!this.answerFrames) throw new Error(`${this.name}: dropAnswer() needs kafkaFrames and answerFrames`);
    this.dropAnswerHoldMs = holdMs;
    this.dropAnswerKeys = new Set(apiKeys);
  }

  /** Stops holding and forwards whatever was parked. */
  release(): void {
    this.holdKeys = new Set();
    for (const link of this.links) link.unpark();
  }

  /** Drops every connection (and whatever was parked on them); new connections are still accepted. */
  reset(): void {
    for (const link of this.links) link.destroy();
    this.links.clear();
  }

  /**
   * A network partition: while on, every connection is dropped and new ones are closed at once (the
   * other side sees resets, as with a firewall that rejects); off lets connections through again.
   */
  block(on: boolean): void {
    this.blocked = on;
    if (on) this.reset();
  }

  async close(): Promise<void> {
    this.reset();
    if (!this.server) return;
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  private accept(client: net.Socket): void {
    if (this.blocked) {
      client.destroy();
      return;
    }
    const upstream = net.connect(this.target.port, this.target.host);
    const link = new Link(this, client, upstream, this.buckets);
    this.links.add(link);
    link.once('closed', () => this.links.delete(link));
  }
}

/** One proxied connection: a lane each way. */
class Link extends EventEmitter {
  private readonly up: Lane;
  private readonly down: Lane;
  private closed = false;
  /** Correlation ids of requests whose answers are dropped, and their api key. */
  readonly dropAnswers = new Set<number>();
  dropApiKey?: number;

  constructor(
    proxy: TcpProxy,
    private readonly client: net.Socket,
    private readonly upstream: net.Socket,
    buckets: { up: TokenBucket; down: TokenBucket },
  ) {
    super();
    this.up = new Lane(proxy, this, client, upstream, buckets.up, proxy.kafkaFrames ? 'requests' : undefined);
    this.down = new Lane(proxy, this, upstream, client, buckets.down, proxy.answerFrames ? 'answers' : undefined);
    for (const socket of [client, upstream]) {
      socket.setNoDelay(true);
      socket.on('error', () => this.destroy());
      socket.on('close', () => this.destroy());
    }
  }

  kick(): void {
    this.up.pump();
    this.down.pump();
  }

  unpark(): void {
    this.up.unpark();
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.up.stop();
    this.down.stop();
    this.client.destroy();
    this.upstream.destroy();
    this.emit('closed');
  }
}

interface Piece {
  data: Buffer;
  at: number;
  /** Kafka api key of a request frame (client-to-server lanes with kafkaFrames only). */
  apiKey?: number;
  /** Correlation id of a request or answer frame (lanes with kafkaFrames only). */
  correlationId?: number;
}

/** Bytes from one socket to the other, in order, with the proxy's latency, throttle and gate applied. */
class Lane {
  private readonly queue: Piece[] = [];
  private queued = 0;
  private pumping = false;
  private stopped = false;
  private parked = false;
  private pending: Buffer = Buffer.alloc(0);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly proxy: TcpProxy,
    private readonly link: Link,
    private readonly from: net.Socket,
    private readonly to: net.Socket,
    private readonly bucket: TokenBucket,
    /** Kafka frames this lane carries, when the proxy parses them: request frames up, answer frames down. */
    private readonly kafkaFrames: 'requests' | 'answers' | undefined,
  ) {
    from.on('data', (chunk: Buffer) => this.onData(chunk));
    from.on('end', () => this.push({ data: Buffer.alloc(0), at: Date.now() }));
  }

  private onData(chunk: Buffer): void {
    const at = Date.now();
    if (!this.kafkaFrames) {
      this.push({ data: chunk, at });
      return;
    }
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    // A request header starts with api key (int16), version (int16), correlation id; an answer's with the id.
    const header = this.kafkaFrames === 'requests' ? 12 : 8;
    while (this.pending.length >= header) {
      const size = this.pending.readInt32BE(0);
      if (this.pending.length < 4 + size) break;
      const frame = this.pending.subarray(0, 4 + size);
      this.pending = this.pending.subarray(4 + size);
      if (this.kafkaFrames === 'requests') {
        this.push({ data: frame, at, apiKey: frame.readInt16BE(4), correlationId: frame.readInt32BE(8) });
      } else {
        this.push({ data: frame, at, correlationId: frame.readInt32BE(4) });
      }
    }
  }

  private push(piece: Piece): void {
    this.queue.push(piece);
    this.queued += piece.data.length;
    // Backpressure toward the sender, so a throttled lane does not buffer without bound in the proxy.
    if (this.queued > 1 << 20) this.from.pause();
    this.pump();
  }

  unpark(): void {
    this.parked = false;
    this.pump();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  pump(): void {
    if (this.pumping || this.stopped) return;
    this.pumping = true;
    void this.run().finally(() => {
      this.pumping = false;
    });
  }

  private async run(): Promise<void> {
    while (this.queue.length > 0 && !this.stopped && !this.parked) {
      const piece = this.queue[0];
      if (piece.apiKey !== undefined && this.proxy.holdKeys.has(piece.apiKey)) {
        this.parked = true;
        this.proxy.holdKeys = new Set(); // one request parked per hold() call
        this.proxy.emit('held', piece.apiKey, piece.data);
        return;
      }
      if (piece.apiKey !== undefined && this.proxy.dropAnswerKeys.has(piece.apiKey)) {
        this.proxy.dropAnswerKeys = new Set(); // one answer dropped per dropAnswer() call
        this.link.dropAnswers.add(piece.correlationId!);
        this.link.dropApiKey = piece.apiKey;
      }
      if (this.kafkaFrames === 'answers' && this.link.dropAnswers.has(piece.correlationId!)) {
        // The server answered; the client never hears it, and the connection goes down a little later.
        this.parked = true;
        this.proxy.emit('answer-dropped', this.link.dropApiKey, piece.correlationId);
        const link = this.link;
        setTimeout(() => link.destroy(), this.proxy.dropAnswerHoldMs).unref();
        return;
      }
      const due = piece.at + this.proxy.latencyMs;
      if (due > Date.now()) {
        await new Promise((resolve) => (this.timer = setTimeout(resolve, due - Date.now())));
        continue; // latency may have changed meanwhile
      }
      if (piece.data.length === 0) {
        this.queue.shift();
        this.to.end();
        continue;
      }
      // Throttled lanes forward in slices, so one large chunk does not wait for its whole budget at once.
      const slice = this.bucket.rate > 0 ? piece.data.subarray(0, 16 * 1024) : piece.data;
      const wait = this.bucket.take(slice.length);
      if (wait > 0) {
        await new Promise((resolve) => (this.timer = setTimeout(resolve, wait)));
        continue;
      }
      if (slice.length === piece.data.length) this.queue.shift();
      else piece.data = piece.data.subarray(slice.length);
      this.queued -= slice.length;
      if (this.queued <= 1 << 19) this.from.resume();
      if (!this.to.write(slice)) {
        await new Promise((resolve) => this.to.once('drain', resolve));
      }
    }
  }
}

/** Bytes per second shared by every connection in one direction; rate 0 means unlimited. */
class TokenBucket {
  rate = 0;
  private tokens = 0;
  private last = Date.now();

  /** Takes `n` bytes' worth if available (returns 0), otherwise returns how many ms to wait first. */
  take(n: number): number {
    if (this.rate <= 0) return 0;
    const now = Date.now();
    // At most a quarter second of burst.
    this.tokens = Math.min(this.rate / 4, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
    if (this.tokens >= n || (this.tokens >= this.rate / 4 && n > this.rate / 4)) {
      this.tokens -= n;
      return 0;
    }
    return Math.max(5, Math.ceil(((n - this.tokens) * 1000) / this.rate));
  }
}
