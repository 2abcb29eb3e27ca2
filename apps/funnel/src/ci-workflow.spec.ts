// Static checks of .github/workflows/ci.yml: no GitHub runner exists here, so the matrix is expanded in the test
// and each entry's service images and MONGODB_URI are checked against what the suite needs on that server.
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';

type Env = Record<string, string>;
type Step = { name?: string; uses?: string; with?: Record<string, string>; run?: string; if?: string; env?: Env };
type Service = { image: string; ports?: string[]; options?: string };
type Job = {
  'runs-on': string;
  container?: unknown;
  env?: Env;
  strategy: { matrix: { include: Env[] } };
  services?: Record<string, Service>;
  steps: Step[];
};

const root = path.resolve('.');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const workflow = parse(read('.github/workflows/ci.yml')) as { env?: Env; jobs: Record<string, Job> };
const packageJson = JSON.parse(read('package.json')) as { engines: { node: string }; scripts: Record<string, string> };
const MONGO_IMAGES = ['mongo:7.0', 'mongo:8.0'];
const MONGO_PORT = '27017';

/** The one job that runs the suite: the one whose matrix is expanded below. */
function testJob(): Job {
  const jobs = Object.values(workflow.jobs);
  expect(jobs).toHaveLength(1);
  return jobs[0];
}

/** `${{ matrix.key }}` replaced by the entry's value; a missing key is '' as on GitHub. Other expressions throw. */
function expand(value: string, entry: Env): string {
  return value.replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_, expression: string) => {
    const key = /^matrix\.([\w-]+)$/.exec(expression)?.[1];
    if (!key)
      throw new Error(`the test cannot evaluate \${{ ${expression} }}: teach expand() or simplify the workflow`);
    return entry[key] ?? '';
  });
}

/** A step's `if`, for the one form the workflow uses (`matrix.key`, true when the value is not empty). */
function runsFor(step: Step, entry: Env): boolean {
  if (step.if === undefined) return true;
  const key = /^\s*(?:\$\{\{\s*)?matrix\.([\w-]+)(?:\s*\}\})?\s*$/.exec(step.if)?.[1];
  if (!key) throw new Error(`the test cannot evaluate if: ${step.if}: teach runsFor() or simplify the workflow`);
  return Boolean(entry[key]);
}

/** The images the job's services run for an entry (an empty image string starts no service). */
function imagesFor(entry: Env): string[] {
  return Object.values(testJob().services ?? {})
    .map((service) => expand(service.image, entry))
    .filter((image) => image !== '');
}

/** Lines a step runs, trimmed, without blank ones. */
function runLines(step: Step): string[] {
  return (step.run ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

/** Index of the first step (that runs for the entry) with `line` as one of its commands; throws when none has. */
function stepRunning(line: string, entry: Env): number {
  const index = testJob().steps.findIndex((step) => runsFor(step, entry) && runLines(step).includes(line));
  if (index < 0) throw new Error(`no step runs \`${line}\` for ${JSON.stringify(entry)}`);
  return index;
}

/**
 * The environment the step at `index` sees for an entry: workflow and job env, what earlier steps that ran
 * appended to $GITHUB_ENV (as `echo "NAME=$VAR" >> "$GITHUB_ENV"` with VAR from the step's env), and its own env.
 */
function envAt(index: number, entry: Env): Env {
  const job = testJob();
  const env: Env = {};
  const add = (more: Env | undefined) => {
    for (const [name, value] of Object.entries(more ?? {})) env[name] = expand(String(value), entry);
  };
  add(workflow.env);
  add(job.env);
  for (const step of job.steps.slice(0, index)) {
    if (!runsFor(step, entry) || !step.run?.includes('GITHUB_ENV')) continue;
    for (const line of runLines(step)) {
      const write = /^echo "(\w+)=\$(\w+)" >> "\$GITHUB_ENV"$/.exec(line);
      if (!write) throw new Error(`the test cannot follow this write to $GITHUB_ENV: ${line}`);
      env[write[1]] = expand(String(step.env?.[write[2]] ?? ''), entry);
    }
  }
  add(job.steps[index]?.env);
  return env;
}

/** The test command of the README's quick start (`npm install && <command>`, on the line about the tests). */
function readmeTestCommand(): string {
  const line = read('README.md')
    .split('\n')
    .find((l) => /^npm install && \S.*#.*\btests?\b/.test(l));
  expect(line).toBeDefined();
  return /^npm install && (.+?)\s+#/.exec(line!)![1];
}

const entries = testJob().strategy.matrix.include;
const mongoEntries = entries.filter((entry) => imagesFor(entry).length > 0);
const standIn = entries.filter((entry) => imagesFor(entry).length === 0);

describe('.github/workflows/ci.yml', () => {
  it('has a matrix of mongo:7.0, mongo:8.0 (one service each) and the stand-in (no service)', () => {
    expect(entries.map(imagesFor).sort()).toEqual([[], ['mongo:7.0'], ['mongo:8.0']]);
    expect(mongoEntries.flatMap(imagesFor).sort()).toEqual(MONGO_IMAGES);
    expect(standIn).toHaveLength(1);
  });

  it.each(MONGO_IMAGES)('runs %s with a health check, so steps start once it answers', (image) => {
    const entry = mongoEntries.find((e) => imagesFor(e).includes(image))!;
    const service = Object.values(testJob().services ?? {}).find((s) => expand(s.image, entry) === image)!;
    const healthCmd = /--health-cmd\s+"([^"]+)"/.exec(service.options ?? '')?.[1] ?? '';
    expect(healthCmd).toMatch(/\bmongosh\b.*\bping\b/);
    expect(service.options).toMatch(/--health-retries\s+\d+/);
    expect(service.ports).toContain(`${MONGO_PORT}:${MONGO_PORT}`);
  });

  it('runs the steps on the runner, where the service answers on a loopback port', () => {
    expect(testJob()['runs-on']).toMatch(/^ubuntu-/);
    expect(testJob().container).toBeUndefined();
  });

  it("runs the README's test command after npm ci, lint and build, in every entry", () => {
    const command = readmeTestCommand();
    // A package.json script, so the README, the workflow and package.json name the same thing.
    const script = /^npm (?:test|run ([\w:-]+))$/.exec(command);
    expect({ command, script: Boolean(script && packageJson.scripts[script[1] ?? 'test']) }).toEqual({
      command,
      script: true,
    });
    for (const entry of entries) {
      const order = [/^npm ci\b/, /^npm run lint$/, /^npm run build$/].map((pattern) =>
        testJob().steps.findIndex((step) => runsFor(step, entry) && runLines(step).some((l) => pattern.test(l))),
      );
      const test = stepRunning(command, entry);
      expect({ entry, order, test }).toEqual({ entry, order: [...order].sort((a, b) => a - b), test });
      expect(order.every((i) => i >= 0 && i < test)).toBe(true);
    }
  });

  it.each(MONGO_IMAGES)('sets MONGODB_URI to the %s service for the test command', (image) => {
    const entry = mongoEntries.find((e) => imagesFor(e).includes(image))!;
    const uri = envAt(stepRunning(readmeTestCommand(), entry), entry).MONGODB_URI;
    expect(uri).toMatch(new RegExp(`^mongodb://(127\\.0\\.0\\.1|localhost):${MONGO_PORT}/\\w+$`));
  });

  it.each(MONGO_IMAGES)('checks the server behind MONGODB_URI is %s before the tests, not a stand-in', (image) => {
    const entry = mongoEntries.find((e) => imagesFor(e).includes(image))!;
    const steps = testJob().steps;
    const check = steps.findIndex((step) => runsFor(step, entry) && /buildInfo/.test(step.run ?? ''));
    expect(check).toBeGreaterThanOrEqual(0);
    expect(check).toBeLessThan(stepRunning(readmeTestCommand(), entry));
    expect(envAt(check, entry)).toMatchObject({ IMAGE: image, MONGODB_URI: expect.stringMatching(/^mongodb:/) });
    expect(runsFor(steps[check], standIn[0])).toBe(false);
  });

  it('leaves MONGODB_URI unset for the stand-in, so the test setup starts one', () => {
    const entry = standIn[0];
    const env = envAt(stepRunning(readmeTestCommand(), entry), entry);
    expect(Object.keys(env)).not.toContain('MONGODB_URI');
  });

  it('sets up the Node major of package.json engines and Java 17 with the Maven cache', () => {
    const withOf = (action: string) => testJob().steps.find((s) => s.uses?.startsWith(`${action}@`))?.with ?? {};
    const engineMajor = /^>=\s*(\d+)\./.exec(packageJson.engines.node)?.[1];
    expect(String(withOf('actions/setup-node')['node-version'])).toBe(engineMajor);
    expect(String(withOf('actions/setup-java')['java-version'])).toBe('17');
    expect(withOf('actions/setup-java').cache).toBe('maven');
  });

  it('pins every action to a major version', () => {
    const uses = testJob().steps.flatMap((step) => (step.uses ? [step.uses] : []));
    expect(uses.length).toBeGreaterThan(0);
    expect(uses.filter((u) => !/^[\w-]+\/[\w-]+@v\d+$/.test(u))).toEqual([]);
  });
});
