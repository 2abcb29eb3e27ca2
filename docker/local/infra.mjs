// Local Kafka + MongoDB for development and tests on machines without Docker.
// Plain Node ESM on purpose (no build step): jest globalSetup, scripts and CI call it directly.
// kafkajs and mongodb are imported lazily, so `fetch` and `down` work before `npm install`.
//
//   node docker/local/infra.mjs up     start (or reuse) Kafka and MongoDB, stay in the foreground
//   node docker/local/infra.mjs down   stop what earlier runs started and left behind
//   node docker/local/infra.mjs fetch  warm the Maven cache only (CI, before tests)
//
// See docker/local/README.md for the resolution order, ports and data locations.

import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, '..', '..');
// FUNNEL_HOME lets a second checkout or a test share nothing with the default .funnel/.
export const FUNNEL_DIR = path.resolve(process.env.FUNNEL_HOME ?? path.join(REPO_ROOT, '.funnel'));
const CACHE_DIR = path.join(FUNNEL_DIR, 'cache');
const LOG_DIR = path.join(FUNNEL_DIR, 'logs');
export const STATE_FILE = path.join(FUNNEL_DIR, 'infra-state.json');

const COMPONENTS = {
  kafka: {
    pom: path.join(HERE, 'kafka', 'pom.xml'),
    versionProperty: 'kafka.version',
    // FUNNEL_KAFKA_VERSION picks another release without editing the pom, e.g. the 3.9.1 fallback.
    versionOverride: () => process.env.FUNNEL_KAFKA_VERSION,
    label: (v) => `Kafka ${v}`,
  },
  mongo: {
    pom: path.join(HERE, 'mongo', 'pom.xml'),
    versionProperty: 'mongo-java-server.version',
    versionOverride: () => undefined,
    label: (v) => `mongo-java-server ${v}`,
  },
};

const LAUNCHERS = {
  kafka: { source: path.join(HERE, 'kafka', 'KafkaLauncher.java'), mainClass: 'KafkaLauncher' },
  mongo: { source: path.join(HERE, 'mongo', 'MongoStandIn.java'), mainClass: 'MongoStandIn' },
};

const defaultLog = (msg) => console.log(`[infra] ${msg}`);
const toLog = (log) => (log === false ? () => {} : (log ?? defaultLog));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const rel = (p) => path.relative(process.cwd(), p) || '.';

// ---------------------------------------------------------------------------------------------------------
// Java and Maven

let javaPromise;

/**
 * Finds a Java 17+ runtime: $JAVA_HOME/bin/java first, then `java` on PATH. `javac` and `jar` are null
 * on a JRE without the JDK tools (the launchers then run as source programs).
 * @returns {Promise<{ java: string, javac: string | null, jar: string | null, major: number }>}
 */
export function resolveJava() {
  javaPromise ??= (async () => {
    const home = process.env.JAVA_HOME;
    const bins = home ? [path.join(home, 'bin')] : [];
    bins.push(null);
    for (const bin of bins) {
      const tool = (name) => (bin ? path.join(bin, name) : name);
      const java = tool('java');
      const r = spawnSync(java, ['-version'], { encoding: 'utf8' });
      if (r.error || r.status !== 0) continue;
      const m = /version "(\d+)(?:\.(\d+))?/.exec(r.stderr);
      let major = m ? Number(m[1]) : 0;
      if (major === 1 && m?.[2]) major = Number(m[2]);
      if (major < 17) {
        throw new Error(`${java} is Java ${major || '?'}; Kafka 4 needs Java 17 or newer (set JAVA_HOME)`);
      }
      const present = (name) =>
        spawnSync(tool(name), ['--version'], { encoding: 'utf8' }).status === 0 ? tool(name) : null;
      return { java, javac: present('javac'), jar: present('jar'), major };
    }
    throw new Error('no java found: install a JDK 17+ (e.g. apt-get install openjdk-17-jdk-headless) or set JAVA_HOME');
  })();
  javaPromise.catch(() => {
    javaPromise = undefined;
  });
  return javaPromise;
}

function pomVersion(component) {
  const c = COMPONENTS[component];
  const override = c.versionOverride();
  if (override) return override;
  const pom = fs.readFileSync(c.pom, 'utf8');
  const m = new RegExp(`<${c.versionProperty.replaceAll('.', '\\.')}>([^<]+)<`).exec(pom);
  return m ? m[1].trim() : 'unknown';
}

/** The version of Kafka or mongo-java-server that the pom (or FUNNEL_KAFKA_VERSION) selects. */
export function componentVersion(component) {
  if (!COMPONENTS[component]) throw new Error(`unknown component ${component}`);
  return pomVersion(component);
}

function sha(...parts) {
  const h = createHash('sha256');
  for (const p of parts) h.update(String(p)).update('\0');
  return h.digest('hex').slice(0, 16);
}

function writeAtomic(file, text) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

function runCommand(command, args, { cwd = REPO_ROOT, env = process.env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, out }));
  });
}

// Maven shares ~/.m2 between runs; one resolution at a time per process keeps two poms from racing on it.
let mavenQueue = Promise.resolve();
const classpathPromises = new Map();

/**
 * Runtime classpath (jar paths joined by the platform's path delimiter) of docker/local/<component>/pom.xml.
 * Runs Maven once; later calls read .funnel/cache/<component>-<hash>.classpath, as long as every jar
 * still exists in ~/.m2.
 * @param {'kafka' | 'mongo'} component
 * @param {{ log?: ((msg: string) => void) | false }} [options]
 * @returns {Promise<string>}
 */
export function resolveClasspath(component, { log } = {}) {
  const c = COMPONENTS[component];
  if (!c) throw new Error(`unknown component ${component}`);
  const version = pomVersion(component);
  const key = sha(fs.readFileSync(c.pom, 'utf8'), version);
  const cacheFile = path.join(CACHE_DIR, `${component}-${key}.classpath`);
  if (classpathPromises.has(cacheFile)) return classpathPromises.get(cacheFile);

  const promise = (async () => {
    const cached = readCachedClasspath(cacheFile);
    if (cached) return cached;
    const say = toLog(log);
    const mvn = process.env.MVN ?? 'mvn';
    const run = mavenQueue.then(async () => {
      const again = readCachedClasspath(cacheFile);
      if (again) return again;
      say(`fetching ${c.label(version)} from Maven Central (first run only)…`);
      const started = Date.now();
      const outFile = `${cacheFile}.${process.pid}.mvn`;
      fs.mkdirSync(CACHE_DIR, { recursive: true });
      const args = [
        '-B',
        '-q',
        '-Dstyle.color=never',
        '-f',
        c.pom,
        'dependency:build-classpath',
        `-Dmdep.outputFile=${outFile}`,
        '-Dmdep.includeScope=runtime',
      ];
      const override = c.versionOverride();
      if (override) args.push(`-D${c.versionProperty}=${override}`);
      let result;
      try {
        result = await runCommand(mvn, args);
      } catch (err) {
        throw new Error(`could not run Maven (${mvn}): ${err.message}; install it (apt-get install maven) or set MVN`);
      }
      if (result.code !== 0 || !fs.existsSync(outFile)) {
        throw new Error(`Maven could not resolve ${c.label(version)} (exit ${result.code}):\n${tail(result.out, 30)}`);
      }
      const classpath = fs.readFileSync(outFile, 'utf8').trim();
      fs.rmSync(outFile, { force: true });
      writeAtomic(cacheFile, classpath);
      say(`${c.label(version)}: ${classpath.split(path.delimiter).length} jars in ${secs(Date.now() - started)}`);
      return classpath;
    });
    mavenQueue = run.catch(() => {});
    return run;
  })();
  classpathPromises.set(cacheFile, promise);
  promise.catch(() => classpathPromises.delete(cacheFile));
  return promise;
}

function readCachedClasspath(file) {
  let classpath;
  try {
    classpath = fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
  // A cleaned ~/.m2 invalidates the cache: Maven then downloads again.
  if (!classpath || !classpath.split(path.delimiter).every((jar) => fs.existsSync(jar))) return null;
  return classpath;
}

const launcherPromises = new Map();

/**
 * How to start one of the Java launchers. With a JDK (javac and jar) it is compiled once into
 * .funnel/cache/<component>-launcher-<hash>.jar: a jar rather than a class directory because class-data
 * sharing (see cdsArchive) accepts only jars on the classpath. Without one it runs as a single-file source
 * program, ~0.7 s slower per start and without CDS.
 * @returns {Promise<{ java: string, classpath: string, main: string, cdsArchive: string | null }>}
 */
async function resolveLauncher(component, { log } = {}) {
  const [{ java, javac, jar: jarTool, major }, classpath] = await Promise.all([
    resolveJava(),
    resolveClasspath(component, { log }),
  ]);
  const { source, mainClass } = LAUNCHERS[component];
  if (!javac || !jarTool) return { java, classpath, main: source, cdsArchive: null };
  const key = sha(fs.readFileSync(source, 'utf8'), classpath, major);
  const jar = path.join(CACHE_DIR, `${component}-launcher-${key}.jar`);
  if (!launcherPromises.has(jar)) {
    launcherPromises.set(
      jar,
      (async () => {
        if (fs.existsSync(jar)) return;
        const tmp = `${jar}.${process.pid}.tmp`;
        fs.rmSync(tmp, { recursive: true, force: true });
        let r = await runCommand(javac, ['-nowarn', '-d', `${tmp}.d`, '-cp', classpath, source]);
        if (r.code !== 0) throw new Error(`javac ${rel(source)} failed:\n${tail(r.out, 30)}`);
        r = await runCommand(jarTool, ['--create', '--file', tmp, '-C', `${tmp}.d`, '.']);
        fs.rmSync(`${tmp}.d`, { recursive: true, force: true });
        if (r.code !== 0) throw new Error(`jar for ${rel(source)} failed:\n${tail(r.out, 30)}`);
        fs.renameSync(tmp, jar);
      })(),
    );
    launcherPromises.get(jar).catch(() => launcherPromises.delete(jar));
  }
  await launcherPromises.get(jar);
  const fullClasspath = [jar, classpath].join(path.delimiter);
  return {
    java,
    classpath: fullClasspath,
    main: mainClass,
    cdsArchive: path.join(CACHE_DIR, `${component}-${sha(fullClasspath, java, major)}.jsa`),
  };
}

// Class-data sharing: the first start records the classes it loaded (-XX:ArchiveClassesAtExit, written when
// the JVM exits cleanly, which makes that one stop ~3 s slower); later starts map them and start ~1 s faster.
// An unusable archive is ignored by the JVM (-Xshare:auto), so the worst case is a normal start.
function cdsArgs(archive) {
  if (!archive) return { args: [], afterExit: () => {} };
  const quiet = ['-Xlog:cds=off', '-Xlog:cds+dynamic=off'];
  if (fs.existsSync(archive)) return { args: [`-XX:SharedArchiveFile=${archive}`, ...quiet], afterExit: () => {} };
  const dumpTo = `${archive}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  return {
    args: [`-XX:ArchiveClassesAtExit=${dumpTo}`, ...quiet],
    afterExit: (signal) => {
      try {
        // After SIGKILL the file may be half written.
        if (signal !== 'SIGKILL' && fs.existsSync(dumpTo) && !fs.existsSync(archive)) fs.renameSync(dumpTo, archive);
      } finally {
        fs.rmSync(dumpTo, { force: true });
      }
    },
  };
}

/**
 * Warms every cache that a start needs (Maven downloads, compiled launchers). Used by `infra.mjs fetch`.
 * @param {{ log?: ((msg: string) => void) | false }} [options]
 */
export async function fetchAll({ log } = {}) {
  await resolveJava();
  // Maven runs one pom at a time anyway; this overlaps one launcher's javac with the other's Maven run.
  await Promise.all([resolveLauncher('kafka', { log }), resolveLauncher('mongo', { log })]);
}

/**
 * Runs a Java main class from the Kafka classpath (e.g. org.apache.kafka.tools.ProducerPerformance)
 * and collects its output.
 * @param {string} mainClass
 * @param {string[]} args
 * @param {{ heapMb?: number, timeoutMs?: number, log?: ((msg: string) => void) | false }} [options]
 * @returns {Promise<{ code: number | null, signal: string | null, out: string }>}
 */
export async function runKafkaTool(mainClass, args, { heapMb = 512, timeoutMs = 10 * 60_000, log } = {}) {
  const [{ java }, classpath] = await Promise.all([resolveJava(), resolveClasspath('kafka', { log })]);
  const child = spawn(
    java,
    [
      `-Xmx${heapMb}m`,
      `-Dlog4j2.configurationFile=${path.join(HERE, 'kafka', 'log4j2.properties')}`,
      '-cp',
      classpath,
      mainClass,
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  track(child);
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve, reject) => {
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out });
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// Child processes: logs, state file, dying with the parent

const liveChildren = new Set();
const heldLocks = new Map();
let exitHookInstalled = false;

function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers cannot wait, so this only signals. The launchers also exit when their stdin pipe
  // closes, which covers a parent killed by SIGKILL, where no handler runs at all (its start locks are
  // then taken over by the next process, which finds their owner dead).
  process.on('exit', () => {
    for (const c of liveChildren) {
      try {
        c.kill('SIGTERM');
      } catch {
        /* already gone */
      }
    }
    for (const { file } of heldLocks.values()) fs.rmSync(file, { force: true });
  });
}

function track(child) {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  installExitHook();
}

/** Handle of a MongoDB server this script did not start (MONGODB_URI, or one already listening). */
function externalMongoHandle(uri, info) {
  return externalHandle({
    kind: 'external',
    uri,
    port: null,
    backend: null,
    dataPath: null,
    logFile: null,
    serverVersion: info.version,
    maxWireVersion: info.maxWireVersion,
  });
}

/** Stops a server and starts it again on the same port and data, under its start lock. */
function restartInPlace({ name, proc, port, host, what, startOnce, log }) {
  return withStartLock(
    name,
    async () => {
      await proc.stop();
      await assertPortFree(port, host, `${what} on port ${port}`);
      await startOnce('restarted');
    },
    { log },
  );
}

/**
 * Runs `fn` holding .funnel/locks/<name>.lock, so that two processes (a test run and an `infra.mjs up`, or
 * two test runs) never start a server on the same port and data dir at once: the second waits, then finds
 * the first one's server answering and reuses it. Re-entrant within a process; a lock whose owner died is
 * taken over.
 */
async function withStartLock(name, fn, { log, timeoutMs = 300_000 } = {}) {
  const held = heldLocks.get(name);
  if (held) return fn();
  const say = toLog(log);
  const file = path.join(FUNNEL_DIR, 'locks', `${name}.lock`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    let owner = NaN;
    try {
      owner = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
    } catch {
      continue;
    }
    // An empty file is a lock being written this instant, not a stale one.
    if (Number.isInteger(owner) && !isAlive(owner)) {
      fs.rmSync(file, { force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(
        `gave up after ${secs(timeoutMs)} waiting for process ${owner} to finish starting ${name} (${rel(file)})`,
      );
    if (!told) say(`waiting for process ${owner}, which is starting ${name}…`);
    told = true;
    await sleep(200);
  }
  heldLocks.set(name, { file });
  installExitHook();
  try {
    return await fn();
  } finally {
    heldLocks.delete(name);
    fs.rmSync(file, { force: true });
  }
}

function readState() {
  try {
    const state = JSON.parse(fs.readFileSync(STATE_FILE, 'utf8'));
    return Array.isArray(state.entries) ? state : { entries: [] };
  } catch {
    return { entries: [] };
  }
}

function writeState(state) {
  if (state.entries.length === 0) fs.rmSync(STATE_FILE, { force: true });
  else writeAtomic(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`);
}

function recordStarted(entry) {
  const state = readState();
  state.entries = state.entries.filter((e) => e.pid !== entry.pid);
  state.entries.push(entry);
  writeState(state);
}

function forgetStarted(pid) {
  const state = readState();
  const before = state.entries.length;
  state.entries = state.entries.filter((e) => e.pid !== pid);
  if (state.entries.length !== before) writeState(state);
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

// The marker (a -D property or a unique path) guards against killing an unrelated process that reused a pid.
function commandLineOf(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    const r = spawnSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout : '';
  }
}

async function waitForExit(pid, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

async function terminatePid(pid, timeoutMs) {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  if (await waitForExit(pid, timeoutMs)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  await waitForExit(pid, 5000);
}

/**
 * Stops processes recorded in .funnel/infra-state.json by startKafka/startMongo (and so by ensureInfra):
 * SIGTERM, wait, then SIGKILL. By default only entries whose starting process is this one or is gone
 * (leftovers), so a test run cannot stop what a live `infra.mjs up` in another shell owns; `all: true`
 * stops every entry (`infra.mjs down`). Removes the file once no entry is left.
 * @param {{ all?: boolean, timeoutMs?: number, log?: ((msg: string) => void) | false }} [options]
 * @returns {Promise<Array<{ name: string, pid: number, was: 'stopped' | 'gone' }>>}
 */
export async function stopStarted({ all = false, timeoutMs = 30_000, log } = {}) {
  const say = toLog(log);
  const { entries } = readState();
  const mine = entries.filter((e) => all || e.owner === process.pid || !isAlive(e.owner));
  const results = await Promise.all(
    mine.map(async (e) => {
      const running = isAlive(e.pid) && commandLineOf(e.pid).includes(e.marker);
      if (running) {
        await terminatePid(e.pid, timeoutMs);
        say(`stopped ${e.name} (pid ${e.pid})`);
      }
      forgetStarted(e.pid);
      return { name: e.name, pid: e.pid, was: running ? 'stopped' : 'gone' };
    }),
  );
  const others = readState().entries;
  if (others.length > 0 && !all) {
    say(
      `left ${others.map((e) => `${e.name} (pid ${e.pid})`).join(', ')}: owned by live process(es) ${[...new Set(others.map((e) => e.owner))].join(', ')}`,
    );
  }
  return results;
}

function openLog(name) {
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const file = path.join(LOG_DIR, `${name}.log`);
  fs.appendFileSync(file, `\n===== ${new Date().toISOString()} start (parent pid ${process.pid}) =====\n`);
  return file;
}

// Only the current run's part of the log: earlier runs' lines would mislead.
function logTail(file, lines = 40) {
  try {
    const text = fs.readFileSync(file, 'utf8');
    const start = text.lastIndexOf('\n===== ');
    return tail(start >= 0 ? text.slice(start + 1) : text, lines);
  } catch {
    return '(no log)';
  }
}

function tail(text, lines) {
  return String(text).trimEnd().split('\n').slice(-lines).join('\n');
}

function secs(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Spawns a long-running server process whose stdout/stderr go to .funnel/logs/<name>.log and returns a
 * handle that can stop, kill and start it again with the same command line.
 */
function superviseProcess({
  name,
  command,
  args,
  cdsArchive = null,
  marker,
  kind,
  waitReady,
  readyTimeoutMs,
  log,
  dieWithParent,
  onUnexpectedExit,
}) {
  const say = toLog(log);
  const logFile = path.join(LOG_DIR, `${name}.log`);
  let child = null;
  let stopping = false;

  const launch = async () => {
    openLog(name);
    const fd = fs.openSync(logFile, 'a');
    const cds = cdsArgs(cdsArchive);
    let c;
    try {
      // detached: false keeps the child in our process group, so a terminal Ctrl-C reaches it as well.
      c = spawn(command, [...cds.args, ...args], {
        cwd: REPO_ROOT,
        stdio: [dieWithParent ? 'pipe' : 'ignore', fd, fd],
        detached: false,
      });
    } finally {
      fs.closeSync(fd);
    }
    await new Promise((resolve, reject) => {
      c.once('spawn', resolve);
      c.once('error', reject);
    });
    // Unref'd so a forgotten handle never keeps a script or a test runner alive; the exit hook and the
    // stdin pipe still take the child down with us.
    c.unref();
    c.stdin?.unref?.();
    c.stdin?.on('error', () => {});
    track(c);
    child = c;
    stopping = false;
    let exited = false;
    let ready = false;
    c.once('exit', (code, signal) => {
      exited = true;
      cds.afterExit(signal);
      forgetStarted(c.pid);
      if (child === c) child = null;
      // A death during startup is reported by launch() itself.
      if (ready && !stopping && onUnexpectedExit) onUnexpectedExit({ name, code, signal, logFile });
    });
    recordStarted({ name, kind, pid: c.pid, owner: process.pid, marker, logFile, startedAt: new Date().toISOString() });

    const deadline = Date.now() + readyTimeoutMs;
    let lastError;
    for (;;) {
      if (exited) {
        throw new Error(
          `${name} exited during startup (exit ${c.exitCode ?? c.signalCode}); ${rel(logFile)}:\n${logTail(logFile)}`,
        );
      }
      try {
        await waitReady();
        ready = true;
        return;
      } catch (err) {
        lastError = err;
      }
      if (Date.now() > deadline) {
        await stopChild(c, 10_000);
        throw new Error(
          `${name} did not answer within ${secs(readyTimeoutMs)} (last error: ${lastError?.message}); ${rel(logFile)}:\n${logTail(logFile)}`,
        );
      }
      await sleep(250);
    }
  };

  const stopChild = async (c, timeoutMs, signal = 'SIGTERM') => {
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    stopping = true;
    const exited = new Promise((resolve) => c.once('exit', resolve));
    // A ref'd timer keeps the event loop alive until the exit event, although the child itself is unref'd.
    let timer;
    const timedOut = new Promise((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    c.kill(signal);
    if ((await Promise.race([exited, timedOut])) === 'timeout') {
      say(`${name} (pid ${c.pid}) ignored ${signal} for ${secs(timeoutMs)}; sending SIGKILL`);
      c.kill('SIGKILL');
      await exited;
    }
    clearTimeout(timer);
  };

  return {
    launch,
    get pid() {
      return child?.pid ?? null;
    },
    get running() {
      return child !== null;
    },
    logFile,
    stop: (timeoutMs = 30_000) => stopChild(child, timeoutMs),
    kill: () => stopChild(child, 10_000, 'SIGKILL'),
  };
}

function portAnswers(port, host = '127.0.0.1', timeoutMs = 500) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (result) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function assertPortFree(port, host, what) {
  if (await portAnswers(port, host)) {
    throw new Error(
      `cannot start ${what}: something already listens on ${host}:${port} (infra.mjs down stops leftovers of earlier runs)`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// Kafka

async function loadKafkajs() {
  try {
    return (await import('kafkajs')).default;
  } catch (err) {
    throw new Error(`kafkajs is not installed (run npm install in ${REPO_ROOT}): ${err.message}`);
  }
}

async function loadMongodb() {
  try {
    return await import('mongodb');
  } catch (err) {
    throw new Error(`mongodb is not installed (run npm install in ${REPO_ROOT}): ${err.message}`);
  }
}

/**
 * One metadata round trip with kafkajs; throws if the broker does not answer.
 * `warm` also asks for a group coordinator and a producer id, so a fresh broker creates __consumer_offsets
 * and fetches its first producer-id block now (~1 s) rather than during the first consumer join or
 * idempotent producer connect, where kafkajs logs the retried "coordinator not available/loading" as ERROR.
 * @param {string} brokers comma-separated host:port list
 * @param {{ timeoutMs?: number, warm?: boolean }} [options]
 * @returns {Promise<{ clusterId: string, brokers: number, topics: string[] }>}
 */
export async function probeKafka(brokers, { timeoutMs = 3000, warm = false } = {}) {
  const { Kafka, logLevel } = await loadKafkajs();
  const kafka = new Kafka({
    clientId: 'funnel-infra-probe',
    brokers: brokers
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean),
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(timeoutMs, 1000),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    const topics = await admin.listTopics();
    if (warm) {
      await admin.describeGroups(['funnel-infra-warmup']);
      // kafkajs refuses an idempotent producer with retries < 1.
      const producer = kafka.producer({
        idempotent: true,
        retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 1000 },
      });
      try {
        await producer.connect();
      } finally {
        await producer.disconnect().catch(() => {});
      }
    }
    return { clusterId: cluster.clusterId, brokers: cluster.brokers.length, topics };
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

// Kafka's Uuid.toString(): 16 random bytes, URL-safe base64 without padding; one starting with '-' is
// rejected by Kafka, so draw again. Saves a JVM start (StorageTool random-uuid).
function kafkaClusterId() {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function kafkaServerProperties({ host, port, controllerPort, logDirs, numPartitions, extraProperties }) {
  const props = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    // With controller.quorum.voters the storage is formatted WITHOUT --standalone.
    'controller.quorum.voters': `1@${host}:${controllerPort}`,
    listeners: `PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${host}:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': logDirs,
    'num.partitions': String(numPartitions),
    // One node: every internal topic must accept replication factor 1, or it is never created.
    'default.replication.factor': '1',
    'min.insync.replicas': '1',
    'offsets.topic.replication.factor': '1',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
    // The default 3 s delay before the first rebalance would slow every test's first consumer join.
    'group.initial.rebalance.delay.ms': '0',
    'auto.create.topics.enable': 'true',
    ...extraProperties,
  };
  return `${Object.entries(props)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;
}

/**
 * Starts a single-node Kafka (KRaft, broker + controller) and waits until kafkajs can read its metadata.
 * Without `dataDir`, a fresh .funnel/kafka-<port>/ is used (emptied first). With `dataDir`, storage that
 * is already formatted there is reused as is (a broker restarted from another process keeps its topics).
 * @param {{
 *   port?: number, controllerPort?: number, host?: string, dataDir?: string, heapMb?: number,
 *   numPartitions?: number, extraProperties?: Record<string, string>, readyTimeoutMs?: number,
 *   dieWithParent?: boolean, onUnexpectedExit?: (info: { name: string, code: number | null, signal: string | null, logFile: string }) => void,
 *   log?: ((msg: string) => void) | false,
 * }} [options]
 * @returns {Promise<KafkaHandle>}
 *
 * @typedef {{
 *   kind: 'kafka', brokers: string, port: number, controllerPort: number, dataDir: string, logFile: string,
 *   version: string, readonly pid: number | null, stop(timeoutMs?: number): Promise<void>, kill(): Promise<void>,
 *   restart(): Promise<void>,
 * }} KafkaHandle
 */
export async function startKafka({
  port = 9092,
  controllerPort = port === 9092 ? 9093 : port + 1,
  host = '127.0.0.1',
  dataDir,
  heapMb = 512,
  numPartitions = 3,
  extraProperties = {},
  readyTimeoutMs = 90_000,
  dieWithParent = true,
  onUnexpectedExit,
  log,
} = {}) {
  const say = toLog(log);
  const fresh = dataDir === undefined;
  dataDir = path.resolve(dataDir ?? path.join(FUNNEL_DIR, `kafka-${port}`));
  const version = pomVersion('kafka');
  const [{ java }, launcher] = await Promise.all([resolveJava(), resolveLauncher('kafka', { log })]);
  const logDirs = path.join(dataDir, 'data');
  const propsFile = path.join(dataDir, 'server.properties');
  const log4j = `-Dlog4j2.configurationFile=${path.join(HERE, 'kafka', 'log4j2.properties')}`;

  const prepareStorage = async () => {
    if (fresh) fs.rmSync(dataDir, { recursive: true, force: true });
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(
      propsFile,
      kafkaServerProperties({ host, port, controllerPort, logDirs, numPartitions, extraProperties }),
    );
    if (fs.existsSync(path.join(logDirs, 'meta.properties'))) return;
    // A one-shot tool: the broker's class-data archive (same classpath) and C1 alone halve its ~1.8 s.
    const formatJvm = ['-Xmx256m', '-XX:TieredStopAtLevel=1', log4j];
    if (launcher.cdsArchive && fs.existsSync(launcher.cdsArchive)) {
      formatJvm.push(`-XX:SharedArchiveFile=${launcher.cdsArchive}`, '-Xlog:cds=off', '-Xlog:cds+dynamic=off');
    }
    const r = await runCommand(java, [
      ...formatJvm,
      '-cp',
      launcher.classpath,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      kafkaClusterId(),
      '-c',
      propsFile,
    ]);
    if (r.code !== 0) throw new Error(`formatting Kafka storage in ${rel(dataDir)} failed:\n${tail(r.out, 30)}`);
  };

  const name = `kafka-${port}`;
  const marker = `-Dfunnel.infra=${name}`;
  const brokers = `${host}:${port}`;
  const jvm = [
    `-Xms${heapMb}m`,
    `-Xmx${heapMb}m`,
    // The GC settings of Kafka's own kafka-run-class.sh.
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:InitiatingHeapOccupancyPercent=35',
    '-XX:+ExplicitGCInvokesConcurrent',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    log4j,
    marker,
    `-Dfunnel.exitOnStdinEof=${dieWithParent}`,
  ];
  const proc = superviseProcess({
    name,
    kind: 'kafka',
    command: java,
    args: [...jvm, '-cp', launcher.classpath, launcher.main, propsFile],
    cdsArchive: launcher.cdsArchive,
    marker,
    waitReady: () => probeKafka(brokers, { warm: true }),
    readyTimeoutMs,
    log,
    dieWithParent,
    onUnexpectedExit,
  });

  const startOnce = async (what) => {
    const started = Date.now();
    await proc.launch();
    say(
      `Kafka ${version} ${what} on ${brokers} in ${secs(Date.now() - started)} (pid ${proc.pid}, data ${rel(dataDir)}, log ${rel(proc.logFile)})`,
    );
  };
  await withStartLock(
    name,
    async () => {
      await assertPortFree(port, host, `Kafka on port ${port}`);
      await assertPortFree(controllerPort, host, `the Kafka controller on port ${controllerPort}`);
      await prepareStorage();
      await startOnce('started');
    },
    { log },
  );

  return {
    kind: 'kafka',
    brokers,
    port,
    controllerPort,
    dataDir,
    logFile: proc.logFile,
    version,
    get pid() {
      return proc.pid;
    },
    stop: (timeoutMs) => proc.stop(timeoutMs),
    kill: () => proc.kill(),
    // Same data dir, no format: topics, offsets and committed group offsets survive.
    restart: () => restartInPlace({ name, proc, port, host, what: 'Kafka', startOnce, log }),
  };
}

// ---------------------------------------------------------------------------------------------------------
// MongoDB

/**
 * Pings MongoDB with the driver; throws if it does not answer.
 * @returns {Promise<{ version: string | null, maxWireVersion: number | null }>}
 */
export async function probeMongo(uri, { timeoutMs = 2000 } = {}) {
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
      admin.command({ ismaster: 1 }).catch(() => ({})),
      admin.command({ buildInfo: 1 }).catch(() => ({})),
    ]);
    return { version: build.version ?? null, maxWireVersion: hello.maxWireVersion ?? null };
  } finally {
    await client.close().catch(() => {});
  }
}

function onPath(binary) {
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

function externalHandle(props) {
  const refuse = (what) => async () => {
    throw new Error(`cannot ${what} ${props.uri ? redact(props.uri) : props.brokers}: it was not started by infra.mjs`);
  };
  return { ...props, pid: null, stop: async () => {}, kill: refuse('kill'), restart: refuse('restart') };
}

/**
 * MongoDB for the app and tests, first match wins:
 *   1. `uri` (default: $MONGODB_URI) set: use it, start nothing (kind 'external');
 *   2. `mongod` on PATH: start it on `port` with a --dbpath under .funnel/ (kind 'mongod');
 *   3. otherwise mongo-java-server via docker/local/mongo/MongoStandIn.java (kind 'mongo-java-server').
 * `kind` ('mongod' | 'mongo-java-server', default $FUNNEL_MONGO_KIND) skips the PATH look-up.
 * Without `file` (h2) or `dbPath` (mongod), data goes to a fresh .funnel/mongo-<port>/; with one, existing
 * data there is kept. restart() keeps data for h2 and mongod; the memory backend restarts empty.
 * @param {{
 *   port?: number, host?: string, dbName?: string, uri?: string | null,
 *   kind?: 'mongod' | 'mongo-java-server', backend?: 'memory' | 'h2', file?: string, dbPath?: string,
 *   heapMb?: number, readyTimeoutMs?: number, dieWithParent?: boolean,
 *   onUnexpectedExit?: (info: { name: string, code: number | null, signal: string | null, logFile: string }) => void,
 *   log?: ((msg: string) => void) | false,
 * }} [options]
 * @returns {Promise<MongoHandle>}
 *
 * @typedef {{
 *   kind: 'external' | 'mongod' | 'mongo-java-server', uri: string, port: number | null,
 *   backend: 'memory' | 'h2' | null, dataPath: string | null, logFile: string | null,
 *   serverVersion: string | null, maxWireVersion: number | null,
 *   readonly pid: number | null, stop(timeoutMs?: number): Promise<void>, kill(): Promise<void>, restart(): Promise<void>,
 * }} MongoHandle
 */
export async function startMongo({
  port = 27017,
  host = '127.0.0.1',
  dbName = 'funnel',
  uri: externalUri = process.env.MONGODB_URI,
  kind = process.env.FUNNEL_MONGO_KIND,
  backend = 'memory',
  file,
  dbPath,
  heapMb = 1024,
  readyTimeoutMs = 60_000,
  dieWithParent = true,
  onUnexpectedExit,
  log,
} = {}) {
  const say = toLog(log);
  if (externalUri) {
    const info = await retryUntil(() => probeMongo(externalUri), readyTimeoutMs, `MongoDB at ${redact(externalUri)}`);
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
  let command;
  let args;
  let marker;
  let dataPath = null;
  let effectiveBackend = null;
  let cdsArchive = null;
  let dataDir = null;
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
  let info = { version: null, maxWireVersion: null };
  const proc = superviseProcess({
    name,
    kind: serverKind,
    command,
    args,
    cdsArchive,
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
      : `mongo-java-server ${pomVersion('mongo')} (${effectiveBackend} backend; reports MongoDB ${info.version}, wire version ${info.maxWireVersion})`;
  const startOnce = async (what) => {
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

async function retryUntil(fn, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (/is not installed/.test(err.message)) throw err;
      if (Date.now() > deadline) throw new Error(`${what} did not answer within ${secs(timeoutMs)}: ${err.message}`);
    }
    await sleep(500);
  }
}

function redact(uri) {
  return uri.replace(/\/\/[^@/]*@/, '//***@');
}

// ---------------------------------------------------------------------------------------------------------
// ensureInfra

const LOOPBACK = new Set(['127.0.0.1', 'localhost']);

function singleLoopbackAddress(list) {
  const parts = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.length !== 1) return null;
  const m = /^(.+):(\d+)$/.exec(parts[0]);
  return m && LOOPBACK.has(m[1]) ? { host: m[1] === 'localhost' ? '127.0.0.1' : m[1], port: Number(m[2]) } : null;
}

function mongoLoopbackTarget(uri) {
  const m = /^mongodb:\/\/([^/@,?]+):(\d+)(?:\/([^?]*))?/.exec(uri);
  return m && LOOPBACK.has(m[1])
    ? { host: m[1] === 'localhost' ? '127.0.0.1' : m[1], port: Number(m[2]), dbName: m[3] || 'funnel' }
    : null;
}

/**
 * Makes sure Kafka and MongoDB answer: reuses whatever already answers on the target address
 * (Kafka: $KAFKA_BROKERS or 127.0.0.1:9092; MongoDB: $MONGODB_URI or mongodb://127.0.0.1:27017/funnel),
 * otherwise starts one there (a target that is not a single loopback address must already answer).
 * What it starts is recorded in .funnel/infra-state.json for stopStarted().
 * @param {{
 *   log?: ((msg: string) => void) | false,
 *   kafka?: Parameters<typeof startKafka>[0], mongo?: Parameters<typeof startMongo>[0],
 *   onUnexpectedExit?: (info: { name: string, code: number | null, signal: string | null, logFile: string }) => void,
 * }} [options]
 * @returns {Promise<{ kafka: KafkaHandle | ExternalKafka, mongo: MongoHandle, startedByUs: Array<'kafka' | 'mongo'>, stopAll(): Promise<void> }>}
 *
 * @typedef {{ kind: 'external', brokers: string, pid: null, stop(): Promise<void>, kill(): Promise<never>, restart(): Promise<never> }} ExternalKafka
 */
export async function ensureInfra({ log, kafka: kafkaOptions = {}, mongo: mongoOptions = {}, onUnexpectedExit } = {}) {
  const say = toLog(log);
  const kafkaTarget = process.env.KAFKA_BROKERS || `127.0.0.1:${kafkaOptions.port ?? 9092}`;
  const mongoTarget =
    process.env.MONGODB_URI || `mongodb://127.0.0.1:${mongoOptions.port ?? 27017}/${mongoOptions.dbName ?? 'funnel'}`;

  const kafkaAt = singleLoopbackAddress(kafkaTarget);
  const mongoAt = mongoLoopbackTarget(mongoTarget);

  // A closed local port means nothing is there. An open one (or a remote address) is given time to answer,
  // since it may be a server that another process is still starting; starting a second one would only fail.
  const reuseKafka = async () => {
    if (kafkaAt && !(await portAnswers(kafkaAt.port, kafkaAt.host))) return null;
    const info = await retryUntil(
      () => probeKafka(kafkaTarget, { timeoutMs: 3000 }),
      30_000,
      `Kafka at ${kafkaTarget}`,
    );
    say(`Kafka: reusing ${kafkaTarget} (cluster ${info.clusterId}, ${info.topics.length} topics)`);
    return externalHandle({ kind: 'external', brokers: kafkaTarget });
  };
  const reuseMongo = async () => {
    if (mongoAt && !(await portAnswers(mongoAt.port, mongoAt.host))) return null;
    const info = await retryUntil(
      () => probeMongo(mongoTarget, { timeoutMs: 2000 }),
      30_000,
      `MongoDB at ${redact(mongoTarget)}`,
    );
    say(`MongoDB: reusing ${redact(mongoTarget)} (server ${info.version ?? '?'})`);
    return externalMongoHandle(mongoTarget, info);
  };

  // Probe, and only if nothing answers: download (outside the lock), then probe again under the start lock,
  // where another process may have started the server meanwhile.
  const kafkaPromise = (async () => {
    const reused = await reuseKafka();
    if (reused) return reused;
    await resolveLauncher('kafka', { log });
    return withStartLock(
      `kafka-${kafkaAt.port}`,
      async () =>
        (await reuseKafka()) ??
        startKafka({ log, onUnexpectedExit, ...kafkaOptions, host: kafkaAt.host, port: kafkaAt.port }),
      { log },
    );
  })();

  const mongoPromise = (async () => {
    const reused = await reuseMongo();
    if (reused) return reused;
    return withStartLock(
      `mongo-${mongoAt.port}`,
      async () =>
        (await reuseMongo()) ??
        startMongo({
          log,
          onUnexpectedExit,
          ...mongoOptions,
          uri: null,
          host: mongoAt.host,
          port: mongoAt.port,
          dbName: mongoAt.dbName,
        }),
      { log },
    );
  })();

  const [kafkaResult, mongoResult] = await Promise.allSettled([kafkaPromise, mongoPromise]);
  const started = [kafkaResult, mongoResult]
    .filter((r) => r.status === 'fulfilled' && r.value.kind !== 'external')
    .map((r) => r.value);
  if (kafkaResult.status === 'rejected' || mongoResult.status === 'rejected') {
    // Half-started infrastructure would only confuse the next attempt.
    await Promise.all(started.map((h) => h.stop()));
    throw kafkaResult.status === 'rejected' ? kafkaResult.reason : mongoResult.reason;
  }
  const kafka = kafkaResult.value;
  const mongo = mongoResult.value;
  return {
    kafka,
    mongo,
    startedByUs: [kafka.kind !== 'external' && 'kafka', mongo.kind !== 'external' && 'mongo'].filter(Boolean),
    stopAll: async () => {
      await Promise.all(started.map((h) => h.stop()));
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// CLI

const USAGE = `usage: node docker/local/infra.mjs <up|down|fetch> [options]
  up     start (or reuse) Kafka and MongoDB, stay in the foreground; Ctrl-C stops what it started
           --kafka-port N (9092)  --mongo-port N (27017)  --mongo-backend memory|h2 (memory)
           --partitions N (3)     --kafka-heap-mb N (512)
  down   stop processes that earlier runs started and left behind (.funnel/infra-state.json)
  fetch  download the Kafka and mongo-java-server jars into ~/.m2 and compile the launchers (no servers)`;

async function cli(argv) {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'kafka-port': { type: 'string' },
      'mongo-port': { type: 'string' },
      'mongo-backend': { type: 'string' },
      partitions: { type: 'string' },
      'kafka-heap-mb': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  const num = (v) => (v === undefined ? undefined : Number(v));

  if (command === 'fetch') {
    const started = Date.now();
    await fetchAll();
    defaultLog(
      `caches warm (${secs(Date.now() - started)}): Kafka ${pomVersion('kafka')}, mongo-java-server ${pomVersion('mongo')}`,
    );
    return 0;
  }
  if (command === 'down') {
    const results = await stopStarted({ all: true });
    if (results.length === 0) defaultLog('nothing recorded as started; nothing to stop');
    return 0;
  }
  if (command !== 'up') {
    console.error(USAGE);
    return 2;
  }

  // Keeps the process in the foreground: the children are unref'd and signal handlers alone keep nothing alive.
  const keepAlive = setInterval(() => {}, 1 << 30);
  let infra = null;
  let shuttingDown = null;
  const shutdown = (reason, code) => {
    shuttingDown ??= (async () => {
      defaultLog(`${reason}: stopping what this run started…`);
      // Interrupted while starting: the state file already lists what this process has spawned.
      await (infra ? infra.stopAll() : stopStarted());
      clearInterval(keepAlive);
      defaultLog('stopped');
      process.exit(code);
    })();
    return shuttingDown;
  };
  process.on('SIGINT', () => shutdown('SIGINT', 0));
  process.on('SIGTERM', () => shutdown('SIGTERM', 0));
  process.on('SIGHUP', () => shutdown('SIGHUP', 0));

  infra = await ensureInfra({
    kafka: {
      port: num(values['kafka-port']),
      numPartitions: num(values.partitions),
      heapMb: num(values['kafka-heap-mb']),
    },
    mongo: { port: num(values['mongo-port']), backend: values['mongo-backend'] },
    onUnexpectedExit: ({ name, code, signal, logFile }) => {
      // A terminal Ctrl-C reaches the children too (same process group); that exit is expected.
      if (shuttingDown) return;
      console.error(
        `[infra] ${name} exited unexpectedly (${signal ?? `exit ${code}`}); last lines of ${rel(logFile)}:\n${logTail(logFile, 20)}`,
      );
      shutdown(`${name} died`, 1);
    },
  });
  if (shuttingDown) return shuttingDown;
  const { kafka, mongo } = infra;
  const mongoKind =
    mongo.kind === 'mongo-java-server'
      ? `mongo-java-server ${pomVersion('mongo')}, ${mongo.backend} backend, reports MongoDB ${mongo.serverVersion} / wire ${mongo.maxWireVersion}`
      : mongo.kind === 'mongod'
        ? `mongod ${mongo.serverVersion}`
        : `external, MongoDB ${mongo.serverVersion ?? '?'}`;
  console.log(
    [
      '',
      `  Kafka    ${kafka.brokers}  (${kafka.kind === 'external' ? 'external: reused, not stopped on exit' : `Kafka ${kafka.version}, pid ${kafka.pid}`})`,
      `  MongoDB  ${redact(mongo.uri)}  (${mongoKind}${mongo.pid ? `, pid ${mongo.pid}` : ''})`,
      '',
      `  export KAFKA_BROKERS=${kafka.brokers} MONGODB_URI=${mongo.uri}`,
      '',
      infra.startedByUs.length
        ? `  Ctrl-C stops ${infra.startedByUs.join(' and ')}; logs in ${rel(LOG_DIR)}/`
        : '  nothing was started here; Ctrl-C just exits',
      '',
    ].join('\n'),
  );
  return shuttingDown ?? new Promise(() => {});
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli(process.argv.slice(2)).then(
    (code) => {
      if (typeof code === 'number') process.exit(code);
    },
    (err) => {
      console.error(`[infra] ${err.message}`);
      process.exit(1);
    },
  );
}
