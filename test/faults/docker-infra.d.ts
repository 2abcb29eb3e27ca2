// Types for the part of docker/local/infra.mjs (plain JS, no declarations) that the fault suite uses.
// A wildcard module declaration is how TypeScript accepts a relative import of a .mjs file without allowJs.
declare module '*/docker/local/infra.mjs' {
  export interface UnexpectedExit {
    name: string;
    code: number | null;
    signal: string | null;
    logFile: string;
  }

  export interface KafkaHandle {
    kind: 'kafka';
    brokers: string;
    port: number;
    controllerPort: number;
    dataDir: string;
    logFile: string;
    version: string;
    readonly pid: number | null;
    /** SIGTERM (controlled shutdown), SIGKILL after `timeoutMs`. */
    stop(timeoutMs?: number): Promise<void>;
    kill(): Promise<void>;
    /** Stops it if running, then starts it again on the same data dir (topics and offsets survive). */
    restart(): Promise<void>;
  }

  export interface MongoHandle {
    kind: 'external' | 'mongod' | 'mongo-java-server';
    uri: string;
    port: number | null;
    backend: 'memory' | 'h2' | null;
    dataPath: string | null;
    logFile: string | null;
    readonly serverVersion: string | null;
    readonly maxWireVersion: number | null;
    readonly pid: number | null;
    stop(timeoutMs?: number): Promise<void>;
    kill(): Promise<void>;
    restart(): Promise<void>;
  }

  type Log = ((msg: string) => void) | false;

  export function startKafka(options?: {
    port?: number;
    controllerPort?: number;
    host?: string;
    dataDir?: string;
    heapMb?: number;
    numPartitions?: number;
    extraProperties?: Record<string, string>;
    readyTimeoutMs?: number;
    dieWithParent?: boolean;
    onUnexpectedExit?: (info: UnexpectedExit) => void;
    log?: Log;
  }): Promise<KafkaHandle>;

  export function startMongo(options?: {
    port?: number;
    host?: string;
    dbName?: string;
    uri?: string | null;
    kind?: 'mongod' | 'mongo-java-server';
    backend?: 'memory' | 'h2';
    file?: string;
    dbPath?: string;
    heapMb?: number;
    readyTimeoutMs?: number;
    dieWithParent?: boolean;
    onUnexpectedExit?: (info: UnexpectedExit) => void;
    log?: Log;
  }): Promise<MongoHandle>;

  export const FUNNEL_DIR: string;
}
