// The local stack's admin token: made once, kept in .funnel/admin-token, so `npm run stack` starts secured.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { FUNNEL_DIR } from '@funnel/dev-infra';

/** Where the local admin token is kept (readable by its owner only). */
export const ADMIN_TOKEN_FILE = path.join(FUNNEL_DIR, 'admin-token');

/**
 * `given` (the user's FUNNEL_ADMIN_TOKEN) when set; else the token of an earlier run; else a new random one, saved.
 * Funnel stores it as an admin token at startup when the store holds none (the in-memory stand-in forgets it).
 */
export function localAdminToken(given: string): { token: string; source: string } {
  if (given) return { token: given, source: 'FUNNEL_ADMIN_TOKEN' };
  if (fs.existsSync(ADMIN_TOKEN_FILE)) {
    return {
      token: fs.readFileSync(ADMIN_TOKEN_FILE, 'utf8').trim(),
      source: path.relative(process.cwd(), ADMIN_TOKEN_FILE),
    };
  }
  const token = `local_${randomBytes(32).toString('base64url')}`;
  fs.mkdirSync(FUNNEL_DIR, { recursive: true });
  fs.writeFileSync(ADMIN_TOKEN_FILE, `${token}\n`, { mode: 0o600 });
  return { token, source: `${path.relative(process.cwd(), ADMIN_TOKEN_FILE)} (new)` };
}
