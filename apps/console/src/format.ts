/** Time and number formatting in the zone the user picked ('browser' or an IANA name). */

export function zoneOf(tz: string): string | undefined {
  return tz === 'browser' ? undefined : tz;
}

/** The IANA name to send the api: the browser's own zone for 'browser'. */
export function resolveZone(tz: string): string {
  return tz === 'browser' ? Intl.DateTimeFormat().resolvedOptions().timeZone : tz;
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** The zone's offset from UTC at instant `ms`, in ms (Berlin in winter: +3,600,000). */
export function zoneOffsetMs(ms: number, zone: string): number {
  let format = offsetFormats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    offsetFormats.set(zone, format);
  }
  const part = Object.fromEntries(format.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const wall = Date.UTC(+part.year!, +part.month! - 1, +part.day!, +part.hour!, +part.minute!, +part.second!);
  return wall - (ms - (ms % 1000));
}

/** The instant whose wall-clock time in `zone` is `wall` (its fields read as UTC); two steps settle the offset. */
export function zonedToUtc(wall: number, zone: string): number {
  const guess = wall - zoneOffsetMs(wall, zone);
  return wall - zoneOffsetMs(guess, zone);
}

/** Whether Intl knows `tz` (an IANA name such as Europe/Berlin), or it is 'browser'. */
export function isKnownZone(tz: string): boolean {
  if (tz === 'browser') return true;
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** `2026-11-28 04:00:00` in the zone, with the zone's short name. */
export function formatTime(ms: number, tz: string): string {
  const key = tz;
  let format = formats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat('sv-SE', {
      timeZone: zoneOf(tz),
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'short',
    });
    formats.set(key, format);
  }
  return format.format(new Date(ms));
}

export function formatNumber(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(digits + 2)));
}

export function formatSeconds(value: number | null): string {
  if (value === null) return '—';
  return value < 1 ? `${Math.round(value * 1000)} ms` : `${value.toFixed(2)} s`;
}

export function formatAge(ms: number): string {
  if (ms < 0) return 'in the future';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}
