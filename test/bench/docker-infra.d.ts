// The parts of docker/local/infra.mjs the bench uses beyond those test/faults/docker-infra.d.ts declares
// (ambient declarations of the same module merge).
declare module '*/docker/local/infra.mjs' {
  export function ensureInfra(options?: {
    log?: ((msg: string) => void) | false;
    kafka?: Record<string, unknown>;
    mongo?: Record<string, unknown>;
  }): Promise<{
    kafka: { brokers: string; kind: string; pid: number | null };
    mongo: { uri: string; kind: string };
    startedByUs: string[];
    stopAll(): Promise<void>;
  }>;

  export function runKafkaTool(
    mainClass: string,
    args: string[],
    options?: { heapMb?: number; timeoutMs?: number; log?: ((msg: string) => void) | false },
  ): Promise<{ code: number | null; signal: string | null; out: string }>;
}
