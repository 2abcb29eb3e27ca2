// Declaring the settings class is what fills the registry listSettings() reads.
import './funnel-config.js';
import { listSettings, type SettingInfo } from './setting.decorator.js';

export const TABLE_START = '<!-- settings:start -->';
export const TABLE_END = '<!-- settings:end -->';

function rolesOf(setting: SettingInfo): string {
  return setting.roles.join(', ');
}

/** The README's settings table (markdown), one row per declared setting, in declaration order. */
export function settingsTable(settings: SettingInfo[] = listSettings()): string {
  const rows = settings.map(
    (s) => `| \`${s.name}\` | \`${s.default ?? ''}\` | ${rolesOf(s)} | ${s.description.replace(/\|/g, '\\|')} |`,
  );
  return ['| setting | default | roles | what it does |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** What `--help` and `config` print: usage, then every setting with its default, roles and description. */
export function settingsHelp(settings: SettingInfo[] = listSettings()): string {
  const lines = [
    'Usage: node dist/apps/funnel/src/main.js [--help | config]',
    '',
    'Funnel reads every setting from the environment and validates them at boot. FUNNEL_ROLE picks the role.',
    '',
    'Settings:',
  ];
  for (const s of settings) {
    lines.push(`  ${s.name}  (default: ${s.default ?? '(none)'}; roles: ${rolesOf(s)})`, `      ${s.description}`);
  }
  return lines.join('\n');
}

/** The text between the settings markers of `readme` (trimmed), or undefined when a marker is missing. */
export function tableInReadme(readme: string): string | undefined {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) return undefined;
  return readme.slice(start + TABLE_START.length, end).trim();
}

/** `readme` with the text between the settings markers replaced by `table`. */
export function withTable(readme: string, table: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) {
    throw new Error(`README has no ${TABLE_START} ... ${TABLE_END} markers`);
  }
  return `${readme.slice(0, start + TABLE_START.length)}\n${table}\n${readme.slice(end)}`;
}
