// MongoDB: probe a server, and start one here (a `mongod` on PATH, else the mongo-java-server stand-in).
import fs from 'node:fs';
import path from 'node:path';

import { cdsArgs, componentVersion, resolveLauncher } from './java.js';
import { FUNNEL_DIR, redact, REPO_ROOT, rel, secs, toLog, type Log } from './paths.js';
import {
  answersWithin,
  assertPortFree,
  externalControl,
  restartInPlace,
  superviseProcess,
  withStartLock,
  type ServerControl,
  type UnexpectedExit,
} from './processes.js';

export interface MongoHandle extends ServerControl {
  kind: 'external' | 'mongod' | 'mongo-java-server';
  uri: string;
  port: number | null;
  backend: 'memory' | 'h2' | null;
  dataPath: string | null;
  logFile: string | null;
  readonly serverVersion: string | null;
  readonly maxWireVersion: number | null;
}

export interface MongoOptions {
  port?: number;
  host?: string;
  dbName?: string;
  /** Use this server and start nothing (default $MONGODB_URI); null forces a start. */
  uri?: string | null;
  kind?: 'mongod' | 'mongo-java-server';
  backend?: 'memory' | 'h2';
  /** The H2 backend's data file (kept across starts). */
  file?: string;
  /** mongod's --dbpath (kept across starts). */
  dbPath?: string;
  heapMb?: number;
  readyTimeoutMs?: number;
  dieWithParent?: boolean;
  onUnexpectedExit?: (info: UnexpectedExit) => void;
  log?: Log;
}

interface ServerInfo {
  version: string | null;
  maxWireVersion: number | null;
}

/** The mongodb driver, loaded on first use so that `devstack fetch` and `down` work before `npm install`. */
export async function loadMongodb(): Promise<typeof import('mongodb')> {
  try {
    return await import('mongodb');
  } catch (err) {
    throw new Error(`mongodb is not installed (run npm install in ${REPO_ROOT}): ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Pings MongoDB with the driver; throws if it does not answer. */
export async function probeMongo(uri: string, { timeoutMs = 2000 }: { timeoutMs?: number } = {}): Promise<ServerInfo> {
  const { MongoClient } = await loadMongodb();
  const client = new MongoClient(uri, {
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    // One probe must not leave pooled sockets or monitors behind.
    maxPoolSize: 1,
  });
  try {
    await client.connect();
    const admin = client.db('admin');
    await admin.command({ ping: 1 });
    // mongo-java-server answers `ismaster`, not `hello`.
    const [hello, build] = await Promise.all([
      admin.command({ ismaster: 1 }).catch(() => ({}) as Record<string, unknown>),
      admin.command({ buildInfo: 1 }).catch(() => ({}) as Record<string, unknown>),
    ]);
    return {
      version: (build.version as string | undefined) ?? null,
      maxWireVersion: (hello.maxWireVersion as number | undefined) ?? null,
    };
  } finally {
    await client.close().catch(() => {});
  }
}

/** Handle of a MongoDB server this process did not start (MONGODB_URI, or one already listening). */
export function externalMongoHandle(uri: string, info: ServerInfo): MongoHandle {
  return {
    ...externalControl(redact(uri)),
    kind: 'external',
    uri,
    port: null,
    backend: null,
    dataPath: null,
    logFile: null,
    serverVersion: info.version,
    maxWireVersion: info.maxWireVersion,
  };
}

function onPath(binary: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, binary);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      /* next */
    }
  }
  return null;
}

/**
 * MongoDB for the app and tests, first match wins:
 *   1. `uri` (default: $MONGODB_URI) set: use it, start nothing (kind 'external');
 *   2. `mongod` on PATH: start it on `port` with a --dbpath under .funnel/ (kind 'mongod');
 *   3. otherwise mongo-java-server via libs/dev-infra/java/mongo/MongoStandIn.java (kind 'mongo-java-server').
 * `kind` (default $FUNNEL_MONGO_KIND) skips the PATH look-up.
 * Without `file` (h2) or `dbPath` (mongod), data goes to a fresh .funnel/mongo-<port>/; with one, existing
 * data there is kept. restart() keeps data for h2 and mongod; the memory backend restarts empty.
 */
export async function startMongo({
  port = 27017,
  host = '127.0.0.1',
  dbName = 'funnel',
  uri: externalUri = process.env.MONGODB_URI,
  kind = process.env.FUNNEL_MONGO_KIND as MongoOptions['kind'],
  backend = 'memory',
  file,
  dbPath,
  heapMb = 1024,
  readyTimeoutMs = 60_000,
  dieWithParent = true,
  onUnexpectedExit,
  log,
}: MongoOptions = {}): Promise<MongoHandle> {
  const say = toLog(log);
  if (externalUri) {
    const info = await answersWithin(
      () => probeMongo(externalUri),
      readyTimeoutMs,
      `MongoDB at ${redact(externalUri)}`,
    );
    say(`MongoDB: using ${redact(externalUri)} (MONGODB_URI; server ${info.version ?? '?'})`);
    return externalMongoHandle(externalUri, info);
  }
  if (backend !== 'memory' && backend !== 'h2') throw new Error(`backend must be 'memory' or 'h2', not ${backend}`);
  const mongod = kind === 'mongo-java-server' ? null : onPath('mongod');
  if (kind === 'mongod' && !mongod) throw new Error('FUNNEL_MONGO_KIND=mongod but no mongod on PATH');
  if (kind && kind !== 'mongod' && kind !== 'mongo-java-server') throw new Error(`unknown MongoDB kind ${kind}`);

  const uri = `mongodb://${host}:${port}/${dbName}`;
  const name = `mongo-${port}`;
  const defaultDir = path.join(FUNNEL_DIR, `mongo-${port}`);
  let command: string;
  let args: string[];
  let marker: string;
  let dataPath: string | null = null;
  let effectiveBackend: 'memory' | 'h2' | null = null;
  let cdsArchive: string | null = null;
  let dataDir: string | null = null;
  let freshData = false;

  if (mongod) {
    dataPath = path.resolve(dbPath ?? defaultDir);
    dataDir = dataPath;
    freshData = !dbPath;
    marker = dataPath;
    args = ['--dbpath', dataPath, '--port', String(port), '--bind_ip', host];
    command = mongod;
    // mongod ignores stdin, so on Linux the kernel signals it when we die (util-linux setpriv).
    const setpriv = dieWithParent && process.platform === 'linux' ? onPath('setpriv') : null;
    if (setpriv) {
      args = ['--pdeathsig', 'TERM', '--', mongod, ...args];
      command = setpriv;
    }
  } else {
    const launcher = await resolveLauncher('mongo', { log });
    marker = `-Dfunnel.infra=${name}`;
    const standInArgs = [
      '--host',
      host,
      '--port',
      String(port),
      '--backend',
      backend,
      '--exit-on-stdin-eof',
      String(dieWithParent),
    ];
    if (backend === 'h2') {
      dataPath = path.resolve(file ?? path.join(defaultDir, 'data.mv'));
      dataDir = path.dirname(dataPath);
      freshData = !file;
      standInArgs.push('--file', dataPath);
    }
    effectiveBackend = backend;
    cdsArchive = launcher.cdsArchive;
    command = launcher.java;
    args = [
      `-Xmx${heapMb}m`,
      '-XX:+ExitOnOutOfMemoryError',
      // Its $year/$hour/$dateToString use the JVM's zone; MongoDB's are UTC.
      '-Duser.timezone=UTC',
      marker,
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
      // Every client that closes its socket abruptly is logged as an ERROR with a stack trace: noise.
      '-Dorg.slf4j.simpleLogger.log.de.bwaldvogel.mongo.wire.MongoExceptionHandler=off',
      '-cp',
      launcher.classpath,
      launcher.main,
      ...standInArgs,
    ];
  }

  const serverKind = mongod ? 'mongod' : 'mongo-java-server';
  let info: ServerInfo = { version: null, maxWireVersion: null };
  const proc = superviseProcess({
    name,
    kind: serverKind,
    command,
    args,
    cds: () => cdsArgs(cdsArchive),
    marker,
    waitReady: async () => {
      info = await probeMongo(uri, { timeoutMs: 1000 });
    },
    readyTimeoutMs,
    log,
    dieWithParent,
    onUnexpectedExit,
  });
  const describe = () =>
    mongod
      ? `mongod ${info.version ?? '?'}`
      : `mongo-java-server ${componentVersion('mongo')} (${effectiveBackend} backend; reports MongoDB ${info.version}, wire version ${info.maxWireVersion})`;
  const startOnce = async (what: string) => {
    const started = Date.now();
    await proc.launch();
    say(
      `MongoDB ${what} on ${uri} in ${secs(Date.now() - started)}: ${describe()} (pid ${proc.pid}${dataPath ? `, data ${rel(dataPath)}` : ''}, log ${rel(proc.logFile)})`,
    );
  };
  await withStartLock(
    name,
    async () => {
      await assertPortFree(port, host, `MongoDB on port ${port}`);
      if (dataDir) {
        if (freshData) fs.rmSync(dataDir, { recursive: true, force: true });
        fs.mkdirSync(dataDir, { recursive: true });
      }
      await startOnce('started');
    },
    { log },
  );

  return {
    kind: serverKind,
    uri,
    port,
    backend: effectiveBackend,
    dataPath,
    logFile: proc.logFile,
    get serverVersion() {
      return info.version;
    },
    get maxWireVersion() {
      return info.maxWireVersion;
    },
    get pid() {
      return proc.pid;
    },
    stop: (timeoutMs) => proc.stop(timeoutMs),
    kill: () => proc.kill(),
    restart: () => restartInPlace({ name, proc, port, host, what: 'MongoDB', startOnce, log }),
  };
}
