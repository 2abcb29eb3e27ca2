/** CSV of the buckets shown, made in the browser from the api's answer (the v2 API will serve its own CSV). */
import type { Bucket, Fn } from './api.js';

/** `start,<fn>...` then one line per bucket; start in ISO UTC, numbers as JSON writes them. */
export function bucketsCsv(buckets: readonly Bucket[], fns: readonly Fn[]): string {
  const lines = [['start', ...fns].join(',')];
  for (const bucket of buckets) lines.push([bucket.start, ...fns.map((fn) => String(bucket[fn]))].join(','));
  return `${lines.join('\n')}\n`;
}

/** Makes the browser save `text` as `name`. */
export function download(name: string, text: string, type = 'text/csv'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
