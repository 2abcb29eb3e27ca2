// Prints the fault suite's results: a table per scenario and the details of failures.
import type { ScenarioResult } from './harness.js';

const COLUMNS: Array<[string, (r: ScenarioResult) => string]> = [
  ['scenario', (r) => `${r.key} ${r.name}`],
  ['acked', (r) => String(r.acked)],
  ['stored', (r) => String(r.stored)],
  ['lost', (r) => String(r.lost)],
  ['duplicated', (r) => String(r.duplicated)],
  ['unacked stored', (r) => String(r.unackedStored)],
  ['aggregates', (r) => r.aggregates],
  ['elapsed', (r) => `${(r.elapsedMs / 1000).toFixed(1)} s`],
  ['result', (r) => (r.passed ? 'pass' : `FAIL (${r.checks.filter((c) => !c.ok).length})`)],
];

/** One row per scenario, as a Markdown table (readable in a terminal and pasteable into a report). */
export function table(results: ScenarioResult[]): string {
  const rows = [COLUMNS.map(([h]) => h), ...results.map((r) => COLUMNS.map(([, f]) => f(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row: string[]) =>
    `| ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(' | ')} |`;
  return [
    line(rows[0]),
    `|${widths.map((w, i) => (i === 0 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...rows.slice(1).map(line),
  ].join('\n');
}

/** Timeline, measurements, failed checks and (for failures) log evidence of every scenario. */
export function details(results: ScenarioResult[]): string {
  const out: string[] = [];
  for (const r of results) {
    out.push('', `## ${r.key} ${r.name} — ${r.passed ? 'pass' : 'FAIL'}`);
    out.push(...r.notes.map((n) => `  ${n}`));
    if (r.foreign || r.corrupted) out.push(`  foreign documents ${r.foreign}, corrupted ${r.corrupted}`);
    for (const c of r.checks) {
      out.push(
        `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${!c.ok && c.detail ? `\n       ${c.detail.split('\n').join('\n       ')}` : ''}`,
      );
    }
    out.push(`  logs: ${r.logs.join(', ')}`);
    if (r.evidence.length) out.push('  evidence:', ...r.evidence.map((l) => `    ${l.split('\n').join('\n    ')}`));
  }
  return out.join('\n');
}
