// What the flusher asks of a bounded store before each batch, and the answer of an unbounded one.

/** What the flusher needs of the gate: how much may be written, and what happened. */
export interface WriteRoom {
  /** Set while the store is full: writing has stopped and consumption is paused. */
  readonly full: { held: number; reason: string } | undefined;
  /** Readings the next batch may hold (Infinity without a capacity). */
  room(): Promise<number>;
  /** The buffer holds readings and not one more record fits: stop writing and consuming. */
  stopForFullStore(): void;
  /** A batch of this many documents was written. */
  wrote(documents: number): void;
}

/** A store without a limit (a real MongoDB): everything fits. */
export const UNLIMITED_ROOM: WriteRoom = {
  full: undefined,
  room: async () => Infinity,
  stopForFullStore: () => {},
  wrote: () => {},
};

/** The consumption switch the gate holds while the store is full. */
export interface StoreHold {
  holdForStore(full: boolean): void;
}
