// Compose's variable interpolation, for the static deployment checks: values are interpolated after the YAML is
// parsed (comments are never interpolated), with the forms the compose specification defines.

/** `${NAME:?…}` or `${NAME?…}` with NAME unset (or empty, for `:?`): compose refuses to start. */
export class MissingVariable extends Error {
  constructor(readonly variable: string) {
    super(`required variable ${variable} is missing a value`);
    this.name = 'MissingVariable';
  }
}

const REFERENCE = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/** One string: `$$` is a literal `$`; `${V}`, `$V`, `${V:-d}`, `${V-d}`, `${V:?e}`, `${V?e}`, `${V:+a}`, `${V+a}`. */
function interpolateString(text: string, env: Readonly<Record<string, string | undefined>>): string {
  return text.replace(REFERENCE, (match, braced?: string, op?: string, arg?: string, bare?: string) => {
    if (match === '$$') return '$';
    const name = (braced ?? bare)!;
    const value = env[name];
    const unset = value === undefined;
    const empty = unset || value === '';
    switch (op) {
      case ':-':
        return empty ? arg! : value!;
      case '-':
        return unset ? arg! : value!;
      case ':?':
        if (empty) throw new MissingVariable(name);
        return value!;
      case '?':
        if (unset) throw new MissingVariable(name);
        return value!;
      case ':+':
        return empty ? '' : arg!;
      case '+':
        return unset ? '' : arg!;
      default:
        return value ?? '';
    }
  });
}

/** Every string in a parsed compose document (keys are left as they are), as compose would see it with `env`. */
export function interpolate(value: unknown, env: Readonly<Record<string, string | undefined>>): unknown {
  if (typeof value === 'string') return interpolateString(value, env);
  if (Array.isArray(value)) return value.map((item) => interpolate(item, env));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolate(item, env)]));
  }
  return value;
}
