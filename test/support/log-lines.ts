// Reads the JSON log lines a Funnel process wrote, so tests can assert on fields instead of text.
import type { FunnelProcess } from './funnel-process.js';

/** One pino line as Funnel writes it; the fields the tests read are typed, the rest are kept. */
export interface LogLine {
  level: number;
  time: string;
  msg?: string;
  role?: string;
  context?: string;
  reqId?: string;
  req?: { id?: string };
  [field: string]: unknown;
}

/** Every non-empty line the process wrote (stdout and stderr), each parsed as JSON (throws naming a line that is not). */
export function jsonLines(process: FunnelProcess): LogLine[] {
  return process
    .output()
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as LogLine;
      } catch (error) {
        throw new Error(`log line is not JSON: ${line}`, { cause: error });
      }
    });
}
