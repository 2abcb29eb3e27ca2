// Fault scenarios against the suite's 3-node Kafka cluster (RF 3, min ISR 2): broker deaths, restarts, a partition.
import { becomesTrue, sleep } from '@funnel/dev-infra';

import type { FaultCluster } from './cluster.js';
import type { FunnelNode } from './funnel-node.js';
import type { ScenarioRun } from './harness.js';
import type { Attempt } from './load.js';
import type { ScenarioDef } from './scenarios.js';

const until = (probe: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 200) =>
  becomesTrue('a cluster scenario condition', probe, { timeoutMs, intervalMs });
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const is2xx = (a: Attempt) => a.status >= 200 && a.status < 300;

function clusterOf(run: ScenarioRun): FaultCluster {
  const cluster = run.infra.cluster;
  if (!cluster) throw new Error(`scenario ${run.key} needs the suite's 3-node cluster`);
  return cluster;
}

/** How long a node stays down in the "one broker down" scenario: a minute in the full profile. */
const longOutage = (run: ScenarioRun) => (run.profile.name === 'full' ? 60_000 : 2 * run.profile.outageMs);

/**
 * Waits for a 2xx to a request sent at or after `since` (acknowledgements continue); notes how long after
 * `since` the first one was answered. Returns whether one came within `timeoutMs`.
 */
async function acksContinue(run: ScenarioRun, since: number, what: string, timeoutMs = 60_000): Promise<boolean> {
  const first = () =>
    run.ledger.attempts.filter((a) => a.sentAt >= since && is2xx(a)).sort((a, b) => a.doneAt - b.doneAt)[0];
  const ok = await until(() => first() !== undefined, timeoutMs);
  const a = first();
  run.note(`${what}: first 2xx for a request sent after it answered ${a ? secs(a.doneAt - since) : 'never'} after it`);
  return run.check(`api acknowledges with ${what}`, ok);
}

/** Every partition of the scenario's topic and of __consumer_offsets back to 3 in-sync replicas. */
async function checkFullIsr(run: ScenarioRun, after: string): Promise<void> {
  const started = Date.now();
  const ok = await clusterOf(run).fullIsr([run.topic, '__consumer_offsets'], 90_000);
  run.event(`${ok ? 'full ISR again' : 'ISR NOT full'} ${secs(Date.now() - started)} after ${after}`);
  run.check(`every replica back in sync after ${after}`, ok);
}

/** Answers to requests sent in [from, to): counts by status, for notes. */
function answersBetween(run: ScenarioRun, from: number, to: number): Record<string, number> {
  return run.ledger.statusCounts((a) => a.sentAt >= from && a.sentAt < to);
}

// c1 -----------------------------------------------------------------------------------------------------
const leaderKill: ScenarioDef = {
  key: 'c1',
  name: 'cluster-leader-sigkill',
  cluster: true,
  fault:
    'the node leading partition 0 of the topic is SIGKILLed under load (RF 3, min ISR 2, acks=all); the ' +
    'others elect a new leader; the node is started again on its data after the outage time and rejoins the ISR',
  async run(run) {
    const cluster = clusterOf(run);
    await run.createTopic();
    const api = await run.startApi();
    await run.startWorker();
    const outageMs = run.profile.outageMs;
    const load = run.load(api, { durationMs: Math.max(run.profile.loadMs, outageMs + 6000), giveUpMs: 120_000 });
    await load.reach(0.3);
    const leader = await cluster.leaderOf(run.topic, 0);
    run.event(`SIGKILL node ${leader}, leader of partition 0`);
    await cluster.node(leader).kill();
    const downAt = Date.now();
    await acksContinue(run, downAt, `node ${leader} (a partition leader) dead`);
    const newLeader = await cluster.leaderOf(run.topic, 0).catch(() => -1);
    run.note(`partition 0 leader: node ${leader} -> node ${newLeader}`);
    run.check('partition 0 has a new leader', newLeader > 0 && newLeader !== leader, `leader ${newLeader}`);
    await sleep(Math.max(0, downAt + outageMs - Date.now()));
    run.event(`starting node ${leader} again`);
    await cluster.node(leader).restart();
    run.note(
      `answers to requests sent while node ${leader} was down: ${JSON.stringify(answersBetween(run, downAt, Date.now()))}`,
    );
    await checkFullIsr(run, `node ${leader} came back`);
    await load.done;
    return run.finish(api);
  },
};

// c2 -----------------------------------------------------------------------------------------------------
const rollingRestart: ScenarioDef = {
  key: 'c2',
  name: 'cluster-rolling-restart',
  cluster: true,
  fault:
    'each of the three nodes in turn is stopped (SIGTERM, controlled shutdown) under load and started again; ' +
    'the next one only once every replica is back in sync',
  async run(run) {
    const cluster = clusterOf(run);
    await run.createTopic();
    const api = await run.startApi();
    await run.startWorker();
    // Paced over longer than three restarts take on a busy machine; stopped after the last one.
    const load = run.load(api, { durationMs: Math.max(run.profile.loadMs, 120_000), giveUpMs: 120_000 });
    await load.reach(0.1);
    for (const id of [1, 2, 3]) {
      run.event(`stopping node ${id}`);
      await cluster.node(id).stop(30_000);
      const downAt = Date.now();
      await acksContinue(run, downAt, `node ${id} stopped`);
      await cluster.node(id).restart();
      run.event(`node ${id} restarted`);
      await checkFullIsr(run, `node ${id} restarted`);
    }
    run.check('the load was still running through the last restart', !load.finished);
    load.stop();
    await load.done;
    run.note(`${run.ledger.count('acked')} readings acked during the three restarts`);
    return run.finish(api);
  },
};

// c3 -----------------------------------------------------------------------------------------------------
const oneDown: ScenarioDef = {
  key: 'c3',
  name: 'cluster-one-broker-down',
  cluster: true,
  fault:
    'one node is SIGKILLed and stays down (a minute in the full profile); the ISRs shrink to two and ' +
    'acks=all with min.insync.replicas=2 keeps acknowledging; then it is started again',
  async run(run) {
    const cluster = clusterOf(run);
    await run.createTopic();
    const api = await run.startApi();
    await run.startWorker();
    const downMs = longOutage(run);
    const load = run.load(api, { durationMs: downMs + 10_000, giveUpMs: 120_000 });
    await load.reach(0.15);
    const victim = await cluster.leaderOf(run.topic, 1);
    run.event(`SIGKILL node ${victim} (leader of partition 1) for ${secs(downMs)}`);
    await cluster.node(victim).kill();
    const downAt = Date.now();
    const shrunk = await until(
      async () => {
        const parts = await cluster.partitions(run.topic).catch(() => []);
        return parts.length > 0 && parts.every((p) => p.isr.length === 2 && !p.isr.includes(victim));
      },
      60_000,
      500,
    );
    run.event(shrunk ? `ISRs shrank to 2 (without node ${victim})` : 'ISRs did NOT shrink');
    run.check(`every ISR shrinks to the two live nodes`, shrunk);
    await acksContinue(run, downAt, `node ${victim} down`);
    await sleep(Math.max(0, downAt + downMs - Date.now()));
    const upAt = Date.now();
    const late = run.ledger.attempts.filter((a) => a.sentAt >= downAt + downMs / 2 && a.sentAt < upAt);
    run.check(
      'requests sent in the second half of the outage are acknowledged',
      late.some(is2xx),
      JSON.stringify(answersBetween(run, downAt + downMs / 2, upAt)),
    );
    run.note(
      `answers to requests sent while node ${victim} was down: ${JSON.stringify(answersBetween(run, downAt, upAt))}`,
    );
    run.event(`starting node ${victim} again`);
    await cluster.node(victim).restart();
    await checkFullIsr(run, `node ${victim} came back`);
    await load.done;
    return run.finish(api);
  },
};

// c4 -----------------------------------------------------------------------------------------------------
const twoDown: ScenarioDef = {
  key: 'c4',
  name: 'cluster-two-brokers-down',
  cluster: true,
  fault:
    'two of the three nodes are SIGKILLed together under load: one replica is left, below min.insync.replicas=2 ' +
    '(and the controller quorum is lost); the api must answer 503, never 202; one node comes back, then the other',
  async run(run) {
    const cluster = clusterOf(run);
    await run.createTopic();
    const api = await run.startApi();
    await run.startWorker({}, { allowExit: true });
    const outageMs = run.profile.outageMs;
    const load = run.load(api, { durationMs: 2 * outageMs + 15_000, giveUpMs: 180_000 });
    await load.reach(0.2);
    run.event('SIGKILL nodes 2 and 3');
    await Promise.all([cluster.node(2).kill(), cluster.node(3).kill()]);
    const downAt = Date.now();
    await sleep(outageMs);
    const upStart = Date.now();
    const during = run.ledger.attempts.filter((a) => a.sentAt >= downAt && a.doneAt <= upStart);
    const sentDuring = run.ledger.attempts.filter((a) => a.sentAt >= downAt && a.sentAt < upStart);
    run.note(`answers to requests sent with two nodes down: ${JSON.stringify(answersBetween(run, downAt, upStart))}`);
    run.check(
      'no 2xx for a request sent while two of three nodes were down',
      !sentDuring.some(is2xx),
      `${sentDuring.filter(is2xx).length} answered 2xx`,
    );
    run.check(
      'the api answered requests while two nodes were down',
      during.some((a) => a.status === 503),
    );
    const wrong = during.filter((a) => a.status !== 503 && a.status !== 0);
    run.check(
      'every answer while two nodes were down was 503',
      wrong.length === 0,
      wrong
        .slice(0, 5)
        .map((a) => `req ${a.req}: ${a.status}`)
        .join('; '),
    );
    run.event('starting node 2 again (two of three: min ISR and quorum reachable again)');
    await cluster.node(2).restart();
    const backAt = Date.now();
    await acksContinue(run, upStart, 'node 2 back (two of three nodes up)', 90_000);
    run.note(`node 2 took ${secs(backAt - upStart)} to answer`);
    run.event('starting node 3 again');
    await cluster.node(3).restart();
    await checkFullIsr(run, 'both nodes came back');
    await load.done;
    return run.finish(api);
  },
};

// c5 -----------------------------------------------------------------------------------------------------
const partitionOne: ScenarioDef = {
  key: 'c5',
  name: 'cluster-network-partition',
  cluster: true,
  fault:
    'every connection between the leader of partition 0 and the other two nodes is cut (all node-to-node ' +
    'traffic runs through TCP proxies; clients still reach it) for twice the outage time, then healed',
  async run(run) {
    const cluster = clusterOf(run);
    if (!cluster.meshed) throw new Error('the network partition needs the cluster started with mesh: true');
    await run.createTopic();
    const api = await run.startApi();
    await run.startWorker({}, { allowExit: true });
    const cutMs = 2 * run.profile.outageMs;
    const load = run.load(api, { durationMs: cutMs + 12_000, giveUpMs: 120_000 });
    await load.reach(0.2);
    const isolated = await cluster.leaderOf(run.topic, 0);
    run.event(`partitioning node ${isolated} (leader of partition 0) from the other nodes`);
    cluster.cut(isolated);
    const cutAt = Date.now();
    await acksContinue(run, cutAt, `node ${isolated} partitioned away`, 90_000);
    const moved = await until(
      async () => {
        const leader = await cluster.leaderOf(run.topic, 0).catch(() => -1);
        return leader > 0 && leader !== isolated;
      },
      60_000,
      500,
    );
    run.check(`partition 0 led by a node of the majority side`, moved);
    await sleep(Math.max(0, cutAt + cutMs - Date.now()));
    run.note(
      `answers to requests sent during the partition: ${JSON.stringify(answersBetween(run, cutAt, Date.now()))}`,
    );
    run.event(`healing the partition of node ${isolated}`);
    cluster.heal(isolated);
    await checkFullIsr(run, `the partition of node ${isolated} healed`);
    await load.done;
    return run.finish(api);
  },
};

// c6 -----------------------------------------------------------------------------------------------------
const scaleOut: ScenarioDef = {
  key: 'c6',
  name: 'cluster-scale-out-kills',
  cluster: true,
  readings: (profile) => profile.readings * 2,
  fault:
    'three workers (one partition each) and two api processes, each api taking half the load; mid-run one ' +
    'worker and one api are SIGKILLed and stay dead: the group rebalances to two workers and the dead ' +
    "api's clients fail over to the other api (as behind a load balancer)",
  async run(run) {
    await run.createTopic();
    const api1 = await run.startApi();
    const api2 = await run.startApi();
    const workers: FunnelNode[] = [];
    for (let i = 0; i < 3; i++) workers.push(await run.startWorker());
    const n = run.dataset.readings.length;
    const half = Math.floor(n / 2);
    // A load balancer's view: api-2's clients go to api-1 once api-2 does not answer.
    const viaApi2 = () => (api2.running ? api2.url : api1.url);
    const loads = [
      run.load(api1, { to: half, giveUpMs: 120_000 }),
      run.load(api1, { from: half, api: viaApi2, giveUpMs: 120_000 }),
    ];
    await loads[0].reach(0.4);
    run.event('SIGKILL worker-2 and api-2');
    await Promise.all([workers[1].kill(), api2.kill()]);
    const killAt = Date.now();
    await acksContinue(run, killAt, 'one api and one worker dead');
    await Promise.all(loads.map((l) => l.done));
    const result = await run.finish(api1, async () => {
      run.note(`stored by the two surviving workers after the kill; group lag 0 at the end`);
    });
    return result;
  },
};

export const CLUSTER_SCENARIOS: ScenarioDef[] = [leaderKill, rollingRestart, oneDown, twoDown, partitionOne, scaleOut];
