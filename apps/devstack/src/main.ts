// devstack CLI: Kafka and MongoDB (and with `stack`, Funnel itself) on a machine without Docker.
import { parseArgs } from 'node:util';

import {
  componentVersion,
  defaultLog,
  fetchAll,
  secs,
  stopStarted,
  type KafkaOptions,
  type MongoOptions,
} from '@funnel/dev-infra';

import { stack } from './stack.js';
import { up } from './up.js';

const USAGE = `usage: node dist/apps/devstack/src/main.js <up|down|fetch|stack> [options]
  up     start (or reuse) Kafka and MongoDB, stay in the foreground; Ctrl-C stops what it started
           --kafka-port N (9092)  --mongo-port N (27017)  --mongo-backend memory|h2 (memory)
           --partitions N (3)     --kafka-heap-mb N (512)
           --brokers N (1): a KRaft cluster of N broker+controller nodes on loopback, node i on
             kafka-port + 2(i-1) (controller on the port after); with 3, RF 3 and min ISR 2
  down   stop processes that earlier runs started and left behind (.funnel/infra-state.json)
  fetch  download the Kafka and mongo-java-server jars into ~/.m2 and compile the launchers (no servers)
  stack  up, plus Funnel from dist/ (role all; --split: api and worker as two processes, ports PORT and
         WORKER_PORT); takes up's options; prints the URLs and what the local store holds; Ctrl-C stops
         everything within 10 s`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'kafka-port': { type: 'string' },
      'mongo-port': { type: 'string' },
      'mongo-backend': { type: 'string' },
      partitions: { type: 'string' },
      'kafka-heap-mb': { type: 'string' },
      brokers: { type: 'string' },
      split: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const serverOptions = (): { kafka: KafkaOptions; mongo: MongoOptions; kafkaNodes: number } => {
    const kafkaNodes = num(values.brokers) ?? 1;
    if (!Number.isInteger(kafkaNodes) || kafkaNodes < 1 || kafkaNodes > 9) {
      throw new Error(`--brokers must be a whole number from 1 to 9, not ${values.brokers}`);
    }
    const backend = values['mongo-backend'];
    if (backend !== undefined && backend !== 'memory' && backend !== 'h2') {
      throw new Error(`--mongo-backend must be memory or h2, not ${backend}`);
    }
    return {
      kafka: {
        port: num(values['kafka-port']),
        numPartitions: num(values.partitions),
        heapMb: num(values['kafka-heap-mb']),
      },
      mongo: { port: num(values['mongo-port']), backend },
      kafkaNodes,
    };
  };
  switch (command) {
    case 'fetch': {
      const started = Date.now();
      await fetchAll();
      defaultLog(
        `caches warm (${secs(Date.now() - started)}): Kafka ${componentVersion('kafka')}, mongo-java-server ${componentVersion('mongo')}`,
      );
      return 0;
    }
    case 'down': {
      const results = await stopStarted({ all: true });
      if (results.length === 0) defaultLog('nothing recorded as started; nothing to stop');
      return 0;
    }
    case 'up':
      return up(serverOptions());
    case 'stack':
      return stack({ split: values.split ?? false, ...serverOptions() });
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`[infra] ${err.message}`);
    process.exit(1);
  },
);
