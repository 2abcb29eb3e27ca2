// The one Prometheus-text reader: parse a /metrics scrape and look samples up by name and labels.

/** One sample of the Prometheus text format: metric name, labels and value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the Prometheus text exposition format (0.0.4); throws on a line it cannot read. */
export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL)) {
      labels[key!] = value!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    const raw = match[3]!;
    samples.push({
      name: match[1]!,
      labels,
      value: raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw),
    });
  }
  return samples;
}

/** The samples of one scrape, looked up by name and (a subset of) labels. */
export class Scrape {
  constructor(readonly samples: Sample[]) {}

  static parse(text: string): Scrape {
    return new Scrape(parsePrometheus(text));
  }

  /** GET `url` (a full /metrics URL) and parse it; throws on a status other than 200. */
  static async of(url: string): Promise<Scrape> {
    const res = await fetch(url);
    if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
    return Scrape.parse(await res.text());
  }

  /** Samples named `name` whose labels include `labels`. */
  all(name: string, labels: Record<string, string> = {}): Sample[] {
    return this.samples.filter(
      (s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value),
    );
  }

  /** The value of the one sample matching; 0 when none does (a counter never incremented for those labels). */
  value(name: string, labels: Record<string, string> = {}): number {
    const found = this.all(name, labels);
    if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
    return found[0]?.value ?? 0;
  }

  /** Sum over every sample matching. */
  sum(name: string, labels: Record<string, string> = {}): number {
    return this.all(name, labels).reduce((total, s) => total + s.value, 0);
  }

  has(name: string): boolean {
    return this.samples.some((s) => s.name === name);
  }

  /**
   * Upper bound of quantile `q` of histogram `name` over the observations made since `before`: the smallest
   * bucket bound holding that share of them (null when nothing was observed in between).
   */
  quantileSince(before: Scrape, name: string, q: number, labels: Record<string, string> = {}): number | null {
    const buckets = (scrape: Scrape) => {
      const byBound = new Map<string, number>();
      for (const s of scrape.all(`${name}_bucket`, labels)) {
        byBound.set(s.labels.le!, (byBound.get(s.labels.le!) ?? 0) + s.value);
      }
      return byBound;
    };
    const b0 = buckets(before);
    const rows = [...buckets(this)]
      .map(([le, n]) => ({ le: le === '+Inf' ? Infinity : Number(le), n: n - (b0.get(le) ?? 0) }))
      .sort((a, b) => a.le - b.le);
    const total = rows.at(-1)?.n ?? 0;
    if (total <= 0) return null;
    return rows.find((r) => r.n >= q * total)!.le;
  }
}
