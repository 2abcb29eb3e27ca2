// Prints the top self-time functions of V8 CPU profiles (`npm run bench -- --profile` writes them):
//   node test/bench/profile-summary.mjs [--top N] [--readings N] FILE.cpuprofile…
// With --readings (the readings the profiled process handled), also µs of self time per reading.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '15' }, readings: { type: 'string' } },
});
const top = Number(values.top);
const readings = values.readings === undefined ? undefined : Number(values.readings);

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map();
  for (const [id, us] of self) {
    const { callFrame: f } = byId.get(id);
    const where = f.url ? `${path.basename(f.url)}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  }
  const idle = byFunction.get('(idle)') ?? 0;
  const busy = total - idle;
  console.log(`${path.basename(file)}: ${(busy / 1e6).toFixed(2)} s busy of ${(total / 1e6).toFixed(2)} s sampled`);
  const rows = [...byFunction]
    .filter(([k]) => k !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, top);
  for (const [key, us] of rows) {
    const share = ((100 * us) / busy).toFixed(1).padStart(5);
    const per = readings ? `  ${(us / readings).toFixed(2).padStart(6)} µs/reading` : '';
    console.log(`  ${share} %${per}  ${key}`);
  }
}
