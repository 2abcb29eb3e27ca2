/**
 * `funnel import FILE|-`: sends an NDJSON file of readings to POST /v1/import in chunks, each under an
 * Idempotency-Key made from its content and position, with a progress bar (rate, ETA). An interrupted import
 * run again resumes after the last chunk acknowledged (a state file), and a chunk sent twice is stored once.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';

import { SingleBar } from 'cli-progress';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';

import { linesOf } from '@funnel/ingestion';

interface ImportArgs {
  file: string;
  url: string;
  token?: string;
  chunkLines: number;
  state: string;
  retries: number;
}

/** Where a file's import stands: the lines and bytes already acknowledged. */
interface ImportState {
  file: string;
  size: number;
  mtimeMs: number;
  lines: number;
  bytes: number;
}

interface ChunkAnswer {
  accepted: number;
  refused: number;
  errors: { line: number; reason: string }[];
  moreErrors?: number;
}

/** The longest line the api reads (MAX_IMPORT_LINE_BYTES there); the CLI sends longer ones for the api to refuse. */
const MAX_LINE_BYTES = 64 * 1024;
const REFUSED_SHOWN = 20;

export const importCommand: CommandModule<object, ImportArgs> = {
  command: 'import <file>',
  describe: 'Import an NDJSON file of readings (- for stdin) through POST /v1/import; resumable',
  builder: (args: Argv) =>
    args
      .positional('file', { type: 'string', demandOption: true, describe: 'NDJSON file, one reading per line, or -' })
      .option('url', { type: 'string', default: 'http://127.0.0.1:3000', describe: "Funnel api's base URL" })
      .option('token', { type: 'string', describe: 'API token, sent as Authorization: Bearer' })
      .option('chunk-lines', { type: 'number', default: 5000, describe: 'Lines per request' })
      .option('state', {
        type: 'string',
        default: '.funnel-import-state.json',
        describe: 'Progress file: a rerun of the same file resumes after the last acknowledged chunk',
      })
      .option('retries', { type: 'number', default: 10, describe: 'Tries per chunk on 503 or a network error' })
      .check((argv) => {
        if (!Number.isInteger(argv['chunk-lines']) || argv['chunk-lines'] < 1)
          throw new Error('--chunk-lines must be ≥ 1');
        return true;
      }) as unknown as Argv<ImportArgs>,
  handler: async (argv: ArgumentsCamelCase<ImportArgs>) => {
    process.exitCode = await runImport(argv);
  },
};

/** 0: every line accepted; 1: done, some lines refused; 2: the import stopped (its state is kept for a rerun). */
async function runImport(args: ImportArgs): Promise<number> {
  const fromStdin = args.file === '-';
  const stat = fromStdin ? undefined : statSync(args.file);
  const state = fromStdin ? undefined : resumeState(args, stat!.size, stat!.mtimeMs);
  const skipLines = state?.lines ?? 0;
  const input: Readable = fromStdin ? process.stdin : createReadStream(args.file);
  const bar = new SingleBar({
    format: stat
      ? 'import [{bar}] {percentage}% | {readings} readings | {rate} readings/s | ETA {eta_formatted}'
      : 'import {readings} readings | {rate} readings/s',
    stream: process.stderr,
    etaBuffer: 50,
  });
  const started = Date.now();
  let accepted = 0;
  let refused = 0;
  const shown: string[] = [];
  bar.start(stat?.size ?? 0, state?.bytes ?? 0, { readings: 0, rate: 0 });
  let lines: string[] = [];
  let firstLine = skipLines + 1;
  let bytes = state?.bytes ?? 0;
  let chunkBytes = 0;
  const send = async (): Promise<void> => {
    const body = lines.join('\n') + '\n';
    const key = `import-${firstLine}-${createHash('sha256').update(body).digest('hex').slice(0, 40)}`;
    const answer = await postChunk(args, body, key);
    accepted += answer.accepted;
    refused += answer.refused;
    for (const error of answer.errors) {
      if (shown.length < REFUSED_SHOWN) shown.push(`line ${firstLine - 1 + error.line}: ${error.reason}`);
    }
    bytes += chunkBytes;
    if (state) saveState(args.state, { ...state, lines: firstLine - 1 + lines.length, bytes });
    firstLine += lines.length;
    lines = [];
    chunkBytes = 0;
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    bar.update(bytes, { readings: accepted, rate: Math.round(accepted / seconds) });
  };
  try {
    for await (const line of linesOf(input, MAX_LINE_BYTES * 4)) {
      if (line.number <= skipLines) continue;
      lines.push(line.tooLong ? 'x'.repeat(MAX_LINE_BYTES + 1) : line.text);
      chunkBytes += Buffer.byteLength(line.text) + 1;
      if (lines.length >= args.chunkLines) await send();
    }
    if (lines.length > 0) await send();
  } catch (error) {
    bar.stop();
    console.error(`import stopped at line ${firstLine}: ${(error as Error).message}`);
    if (state) console.error(`run the same command again to resume (progress in ${args.state})`);
    return 2;
  }
  bar.stop();
  const seconds = (Date.now() - started) / 1000;
  console.error(
    `imported ${accepted} readings, refused ${refused} lines in ${seconds.toFixed(1)} s` +
      (skipLines > 0 ? ` (resumed after line ${skipLines})` : ''),
  );
  for (const problem of shown) console.error(`  ${problem}`);
  if (refused > shown.length) console.error(`  ... and ${refused - shown.length} more`);
  if (state) saveState(args.state, { ...state, lines: firstLine - 1, bytes: stat!.size });
  return refused > 0 ? 1 : 0;
}

/** The saved progress of this very file (same path, size and mtime), else a fresh state. */
function resumeState(args: ImportArgs, size: number, mtimeMs: number): ImportState {
  const file = path.resolve(args.file);
  const fresh: ImportState = { file, size, mtimeMs, lines: 0, bytes: 0 };
  if (!existsSync(args.state)) return fresh;
  try {
    const saved = JSON.parse(readFileSync(args.state, 'utf8')) as ImportState;
    const same = saved.file === file && saved.size === size && saved.mtimeMs === mtimeMs;
    return same && Number.isInteger(saved.lines) && saved.lines >= 0 ? saved : fresh;
  } catch {
    return fresh;
  }
}

function saveState(file: string, state: ImportState): void {
  writeFileSync(file, JSON.stringify(state));
}

/** POSTs one chunk; retries 503s and network errors (same key, so a chunk stored before is not stored again). */
async function postChunk(args: ImportArgs, body: string, key: string): Promise<ChunkAnswer> {
  let lastError = '';
  for (let attempt = 1; attempt <= args.retries; attempt++) {
    try {
      const res = await fetch(`${args.url.replace(/\/$/, '')}/v1/import`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-ndjson',
          'idempotency-key': key,
          ...(args.token ? { authorization: `Bearer ${args.token}` } : {}),
        },
        body,
      });
      const text = await res.text();
      if (res.ok) return JSON.parse(text) as ChunkAnswer;
      lastError = `HTTP ${res.status}: ${text.slice(0, 300)}`;
      if (res.status !== 503 && res.status !== 429) throw new Error(lastError);
      const retryAfter = Number(res.headers.get('retry-after'));
      await sleep(Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, 30) * 1000 : backoff(attempt));
    } catch (error) {
      if ((error as Error).message === lastError) throw error;
      lastError = (error as Error).message;
      await sleep(backoff(attempt));
    }
  }
  throw new Error(`gave up after ${args.retries} tries: ${lastError}`);
}

function backoff(attempt: number): number {
  return Math.min(200 * 2 ** attempt, 10_000);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
