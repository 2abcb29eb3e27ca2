// Runs the fault scenarios one after the other against the suite's own Kafka and MongoDB.
import fs from 'node:fs';
import path from 'node:path';

import type { FaultCluster } from './cluster.js';
import { FUNNEL_MAIN } from './funnel-node.js';
import { ScenarioRun, type Profile, type ScenarioResult, type SuiteContext } from './harness.js';
import { FaultInfra, type FaultPorts } from './infra.js';
import { SCENARIOS, type ScenarioDef } from './scenarios.js';

/**
 * The suite's own Kafka and MongoDB, and the scenarios run one after the other against them (each with its
 * own topic, group and database). Used by run.ts (`npm run test:faults`) and by test/faults.e2e-spec.ts.
 */
export class FaultSuite {
  readonly results: ScenarioResult[] = [];
  readonly runTag = Date.now().toString(36);
  readonly runDir: string;
  private infra?: FaultInfra;
  /** The cluster scenarios' 3-node cluster (started on first use, or by startCluster). */
  private clusterInfra?: FaultInfra;

  constructor(
    readonly profile: Profile,
    readonly ports: FaultPorts,
    readonly log: (line: string) => void = (line) => console.log(line),
  ) {
    this.runDir = path.resolve('.funnel', 'faults', this.runTag);
  }

  async start(): Promise<void> {
    if (!fs.existsSync(FUNNEL_MAIN)) throw new Error(`${FUNNEL_MAIN} is missing: run \`npm run build\` first`);
    fs.mkdirSync(this.runDir, { recursive: true });
    this.log(`[faults] profile ${this.profile.name}; logs in ${path.relative(process.cwd(), this.runDir)}/`);
    this.infra = await FaultInfra.start(this.ports, (line) => this.log(`[faults] ${line}`));
  }

  /**
   * Starts the 3-node cluster of the cluster scenarios (sharing the MongoDB of start(), if it ran); `mesh`
   * routes node-to-node traffic through proxies, which the network-partition scenario needs.
   */
  async startCluster({ mesh = true }: { mesh?: boolean } = {}): Promise<void> {
    if (this.clusterInfra) return;
    if (!fs.existsSync(FUNNEL_MAIN)) throw new Error(`${FUNNEL_MAIN} is missing: run \`npm run build\` first`);
    fs.mkdirSync(this.runDir, { recursive: true });
    this.clusterInfra = await FaultInfra.startCluster(this.ports, (line) => this.log(`[faults] ${line}`), {
      mesh,
      shareMongo: this.infra,
    });
  }

  /** The cluster of the cluster scenarios, once started. */
  get cluster(): FaultCluster | undefined {
    return this.clusterInfra?.cluster;
  }

  scenario(key: string): ScenarioDef {
    const def = SCENARIOS.find((s) => s.key === key || s.name === key);
    if (!def) throw new Error(`no scenario ${key}; there are ${SCENARIOS.map((s) => `${s.key} ${s.name}`).join(', ')}`);
    return def;
  }

  /** Runs one scenario; a scenario that throws still yields a result (with a failed check). */
  async run(key: string): Promise<ScenarioResult> {
    const def = this.scenario(key);
    if (def.cluster && !this.clusterInfra) await this.startCluster();
    const infra = def.cluster ? this.clusterInfra : this.infra;
    if (!infra) throw new Error('start() first');
    const ctx: SuiteContext = {
      infra,
      profile: this.profile,
      runDir: this.runDir,
      runTag: this.runTag,
      log: this.log,
    };
    const run = new ScenarioRun(ctx, def.key, def.name, def.readings?.(this.profile));
    this.log(`[faults] scenario ${def.key} ${def.name}: ${def.fault}`);
    let result: ScenarioResult;
    try {
      result = await def.run(run);
    } catch (error) {
      result = await run.abort(error as Error);
    } finally {
      await run.teardown();
    }
    this.results.push(result);
    this.log(
      `[faults] scenario ${def.key} ${result.passed ? 'passed' : 'FAILED'}: acked ${result.acked}, stored ${result.stored}, ` +
        `lost ${result.lost}, duplicated ${result.duplicated} (${(result.elapsedMs / 1000).toFixed(1)} s)`,
    );
    return result;
  }

  async stop(): Promise<void> {
    await this.clusterInfra?.stop();
    this.clusterInfra = undefined;
    await this.infra?.stop();
    this.infra = undefined;
  }
}
