// Where the dev infrastructure keeps things (repo root, .funnel/ state, logs, caches) and how it reports them.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout this module belongs to: the nearest directory up holding nest-cli.json (src/ or dist/). */
function findRepoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'nest-cli.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no nest-cli.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
}

export const REPO_ROOT = findRepoRoot();
/** The Java launchers and poms. */
export const JAVA_DIR = path.join(REPO_ROOT, 'libs', 'dev-infra', 'java');
// FUNNEL_HOME lets a second checkout or a test share nothing with the default .funnel/.
export const FUNNEL_DIR = path.resolve(process.env.FUNNEL_HOME ?? path.join(REPO_ROOT, '.funnel'));
export const CACHE_DIR = path.join(FUNNEL_DIR, 'cache');
export const LOG_DIR = path.join(FUNNEL_DIR, 'logs');
export const STATE_FILE = path.join(FUNNEL_DIR, 'infra-state.json');

/** Where progress lines go: a function, or false for silence (default: console with an [infra] prefix). */
export type Log = ((msg: string) => void) | false;

export const defaultLog = (msg: string): void => console.log(`[infra] ${msg}`);
export const toLog = (log: Log | undefined): ((msg: string) => void) =>
  log === false ? () => {} : (log ?? defaultLog);

/** A path relative to the working directory, for messages. */
export const rel = (p: string): string => path.relative(process.cwd(), p) || '.';
export const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
export const tail = (text: string, lines: number): string =>
  String(text).trimEnd().split('\n').slice(-lines).join('\n');

/** Writes `text` to `file` so that a reader never sees half of it. */
export function writeAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** Hides the credentials of a connection string. */
export const redact = (uri: string): string => uri.replace(/\/\/[^@/]*@/, '//***@');
