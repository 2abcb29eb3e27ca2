/** What `--help`, the docs/settings.md table and the boot-time defaults know about one environment setting. */
export interface SettingInfo {
  name: string;
  default: string | undefined;
  description: string;
  roles: ReadonlyArray<'api' | 'worker' | 'all'>;
  /** Holds a secret: its value is never printed (validation messages say `(hidden)`). */
  secret?: boolean;
}

const registry = new Map<string, SettingInfo>();

/** Declares an environment setting: its default (as the string an operator would type) and what it does. */
export function Setting(
  info: Omit<SettingInfo, 'name' | 'roles'> & { roles?: SettingInfo['roles'] },
): PropertyDecorator {
  return (_target, key) => {
    const name = String(key);
    registry.set(name, { name, roles: ['api', 'worker', 'all'], ...info });
  };
}

/** Every declared setting, in declaration order. */
export function listSettings(): SettingInfo[] {
  return [...registry.values()];
}
