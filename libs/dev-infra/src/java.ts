// Java and Maven: find a JDK, resolve the Kafka and mongo-java-server classpaths, compile the launchers.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { CACHE_DIR, JAVA_DIR, REPO_ROOT, rel, secs, tail, toLog, writeAtomic, type Log } from './paths.js';
import { runProcess } from './process-runner.js';
import type { CdsArgs } from './processes.js';

export type Component = 'kafka' | 'mongo';

const COMPONENTS: Record<
  Component,
  { pom: string; versionProperty: string; versionOverride: () => string | undefined; label: (v: string) => string }
> = {
  kafka: {
    pom: path.join(JAVA_DIR, 'kafka', 'pom.xml'),
    versionProperty: 'kafka.version',
    // FUNNEL_KAFKA_VERSION picks another release without editing the pom, e.g. the 3.9.1 fallback.
    versionOverride: () => process.env.FUNNEL_KAFKA_VERSION,
    label: (v) => `Kafka ${v}`,
  },
  mongo: {
    pom: path.join(JAVA_DIR, 'mongo', 'pom.xml'),
    versionProperty: 'mongo-java-server.version',
    versionOverride: () => undefined,
    label: (v) => `mongo-java-server ${v}`,
  },
};

const LAUNCHERS: Record<Component, { source: string; mainClass: string }> = {
  kafka: { source: path.join(JAVA_DIR, 'kafka', 'KafkaLauncher.java'), mainClass: 'KafkaLauncher' },
  mongo: { source: path.join(JAVA_DIR, 'mongo', 'MongoStandIn.java'), mainClass: 'MongoStandIn' },
};

/** The broker's (and Kafka tools') log4j2 configuration. */
export const KAFKA_LOG4J = `-Dlog4j2.configurationFile=${path.join(JAVA_DIR, 'kafka', 'log4j2.properties')}`;

export interface JavaTools {
  java: string;
  /** null on a JRE without the JDK tools (the launchers then run as source programs). */
  javac: string | null;
  jar: string | null;
  major: number;
}

let javaPromise: Promise<JavaTools> | undefined;

/** Finds a Java 17+ runtime: $JAVA_HOME/bin/java first, then `java` on PATH. */
export function resolveJava(): Promise<JavaTools> {
  javaPromise ??= (async () => {
    const home = process.env.JAVA_HOME;
    const bins: Array<string | null> = home ? [path.join(home, 'bin')] : [];
    bins.push(null);
    for (const bin of bins) {
      const tool = (name: string) => (bin ? path.join(bin, name) : name);
      const java = tool('java');
      const r = spawnSync(java, ['-version'], { encoding: 'utf8' });
      if (r.error || r.status !== 0) continue;
      const m = /version "(\d+)(?:\.(\d+))?/.exec(r.stderr);
      let major = m ? Number(m[1]) : 0;
      if (major === 1 && m?.[2]) major = Number(m[2]);
      if (major < 17) {
        throw new Error(`${java} is Java ${major || '?'}; Kafka 4 needs Java 17 or newer (set JAVA_HOME)`);
      }
      const present = (name: string) =>
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

/** The version of Kafka or mongo-java-server that the pom (or FUNNEL_KAFKA_VERSION) selects. */
export function componentVersion(component: Component): string {
  const c = COMPONENTS[component];
  if (!c) throw new Error(`unknown component ${component}`);
  const override = c.versionOverride();
  if (override) return override;
  const pom = fs.readFileSync(c.pom, 'utf8');
  const m = new RegExp(`<${c.versionProperty.replaceAll('.', '\\.')}>([^<]+)<`).exec(pom);
  return m ? m[1]!.trim() : 'unknown';
}

function sha(...parts: Array<string | number>): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(String(p)).update('\0');
  return h.digest('hex').slice(0, 16);
}

const inRepo = (command: string, args: string[]) => runProcess(command, { args, cwd: REPO_ROOT });

// Maven shares ~/.m2 between runs; one resolution at a time per process keeps two poms from racing on it.
let mavenQueue: Promise<unknown> = Promise.resolve();
const classpathPromises = new Map<string, Promise<string>>();

/**
 * Runtime classpath (jar paths joined by the platform's path delimiter) of libs/dev-infra/java/<component>/pom.xml.
 * Runs Maven once; later calls read .funnel/cache/<component>-<hash>.classpath, as long as every jar
 * still exists in ~/.m2.
 */
export function resolveClasspath(component: Component, { log }: { log?: Log } = {}): Promise<string> {
  const c = COMPONENTS[component];
  if (!c) throw new Error(`unknown component ${component}`);
  const version = componentVersion(component);
  const key = sha(fs.readFileSync(c.pom, 'utf8'), version);
  const cacheFile = path.join(CACHE_DIR, `${component}-${key}.classpath`);
  const known = classpathPromises.get(cacheFile);
  if (known) return known;

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
        result = await inRepo(mvn, args);
      } catch (err) {
        throw new Error(
          `could not run Maven (${mvn}): ${(err as Error).message}; install it (apt-get install maven) or set MVN`,
          { cause: err },
        );
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

function readCachedClasspath(file: string): string | null {
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

export interface Launcher {
  java: string;
  classpath: string;
  /** The main class, or the .java source file when there is no JDK to compile it. */
  main: string;
  cdsArchive: string | null;
}

const launcherPromises = new Map<string, Promise<void>>();

/**
 * How to start one of the Java launchers. With a JDK (javac and jar) it is compiled once into
 * .funnel/cache/<component>-launcher-<hash>.jar: a jar rather than a class directory because class-data
 * sharing (see cdsArgs) accepts only jars on the classpath. Without one it runs as a single-file source
 * program, slower to start and without CDS.
 */
export async function resolveLauncher(component: Component, { log }: { log?: Log } = {}): Promise<Launcher> {
  const [{ java, javac, jar: jarTool, major }, classpath] = await Promise.all([
    resolveJava(),
    resolveClasspath(component, { log }),
  ]);
  const { source, mainClass } = LAUNCHERS[component];
  if (!javac || !jarTool) return { java, classpath, main: source, cdsArchive: null };
  const key = sha(fs.readFileSync(source, 'utf8'), classpath, major);
  const jar = path.join(CACHE_DIR, `${component}-launcher-${key}.jar`);
  let compiled = launcherPromises.get(jar);
  if (!compiled) {
    compiled = (async () => {
      if (fs.existsSync(jar)) return;
      const tmp = `${jar}.${process.pid}.tmp`;
      fs.rmSync(tmp, { recursive: true, force: true });
      let r = await inRepo(javac, ['-nowarn', '-d', `${tmp}.d`, '-cp', classpath, source]);
      if (r.code !== 0) throw new Error(`javac ${rel(source)} failed:\n${tail(r.out, 30)}`);
      r = await inRepo(jarTool, ['--create', '--file', tmp, '-C', `${tmp}.d`, '.']);
      fs.rmSync(`${tmp}.d`, { recursive: true, force: true });
      if (r.code !== 0) throw new Error(`jar for ${rel(source)} failed:\n${tail(r.out, 30)}`);
      fs.renameSync(tmp, jar);
    })();
    launcherPromises.set(jar, compiled);
    compiled.catch(() => launcherPromises.delete(jar));
  }
  await compiled;
  const fullClasspath = [jar, classpath].join(path.delimiter);
  return {
    java,
    classpath: fullClasspath,
    main: mainClass,
    cdsArchive: path.join(CACHE_DIR, `${component}-${sha(fullClasspath, java, major)}.jsa`),
  };
}

// Class-data sharing: the first start records the classes it loaded (-XX:ArchiveClassesAtExit, written when
// the JVM exits cleanly, which makes that one stop slower); later starts map them and start faster.
// An unusable archive is ignored by the JVM (-Xshare:auto), so the worst case is a normal start.
export function cdsArgs(archive: string | null): CdsArgs {
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

/** Warms every cache that a start needs (Maven downloads, compiled launchers): `devstack fetch`. */
export async function fetchAll({ log }: { log?: Log } = {}): Promise<void> {
  await resolveJava();
  // Maven runs one pom at a time anyway; this overlaps one launcher's javac with the other's Maven run.
  await Promise.all([resolveLauncher('kafka', { log }), resolveLauncher('mongo', { log })]);
}

/**
 * Runs a Java main class from the Kafka classpath (e.g. org.apache.kafka.tools.ProducerPerformance)
 * and collects its output.
 */
export async function runKafkaTool(
  mainClass: string,
  args: string[],
  { heapMb = 512, timeoutMs = 10 * 60_000, log }: { heapMb?: number; timeoutMs?: number; log?: Log } = {},
): Promise<{ code: number | null; signal: string | null; out: string }> {
  const [{ java }, classpath] = await Promise.all([resolveJava(), resolveClasspath('kafka', { log })]);
  return runProcess(java, { args: [`-Xmx${heapMb}m`, KAFKA_LOG4J, '-cp', classpath, mainClass, ...args], timeoutMs });
}
