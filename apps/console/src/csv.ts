/** Saving a file the api produced (Explore's "Download CSV" saves GET /v2/aggregates?format=csv as received). */

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
