/** Splits a byte stream into lines in bounded memory: a line longer than the limit is reported, not buffered. */
import type { Readable } from 'node:stream';

/** One line of the stream: its text, or `tooLong` when it exceeded the limit (its bytes were dropped). */
export interface StreamLine {
  number: number;
  text: string;
  tooLong: boolean;
}

const NEWLINE = 10;

/**
 * The lines of `stream`, numbered from 1 (`\r\n` ends a line too). At most `maxLineBytes` of a line are held:
 * past that its bytes are skipped up to the next newline and it comes out with `tooLong`.
 */
export async function* linesOf(stream: Readable, maxLineBytes: number): AsyncGenerator<StreamLine> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let tooLong = false;
  let number = 0;
  const line = (tail: Buffer): StreamLine => {
    number++;
    if (tooLong) return { number, text: '', tooLong: true };
    let bytes = pendingBytes === 0 ? tail : Buffer.concat([...pending, tail]);
    if (bytes.length > 0 && bytes[bytes.length - 1] === 13) bytes = bytes.subarray(0, bytes.length - 1);
    return { number, text: bytes.toString('utf8'), tooLong: false };
  };
  for await (const chunk of stream) {
    const buffer = chunk as Buffer;
    let start = 0;
    for (;;) {
      const end = buffer.indexOf(NEWLINE, start);
      if (end === -1) break;
      if (!tooLong && pendingBytes + end - start > maxLineBytes) tooLong = true;
      yield line(buffer.subarray(start, end));
      pending = [];
      pendingBytes = 0;
      tooLong = false;
      start = end + 1;
    }
    if (start < buffer.length && !tooLong) {
      pendingBytes += buffer.length - start;
      if (pendingBytes > maxLineBytes) {
        tooLong = true;
        pending = [];
      } else {
        pending.push(buffer.subarray(start));
      }
    }
  }
  if (pendingBytes > 0 || tooLong) yield line(Buffer.alloc(0));
}
