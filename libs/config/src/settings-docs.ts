/** Renders the declared settings as `--help` text and as the generated section of docs/settings.md. */
// Declaring the settings class is what fills the registry listSettings() reads.
import './funnel-config.js';
import { listSettings, type SettingInfo } from './setting.decorator.js';

export const SECTION_START = '<!-- settings:start -->';
export const SECTION_END = '<!-- settings:end -->';

/** Where the generated settings reference lives, relative to the repository root. */
export const SETTINGS_DOC = 'docs/settings.md';

function rolesOf(setting: SettingInfo): string {
  return setting.roles.join(', ');
}

/** The heading anchor GitHub makes for `### \`NAME\``: lower case, backticks dropped. */
function anchorOf(setting: SettingInfo): string {
  return setting.name.toLowerCase();
}

/**
 * The generated part of docs/settings.md (markdown), in declaration order: a table of short cells (name, default,
 * roles) whose names link to one heading per setting, under which its description stands as a paragraph.
 */
export function settingsReference(settings: SettingInfo[] = listSettings()): string {
  const rows = settings.map((s) => `| [\`${s.name}\`](#${anchorOf(s)}) | \`${s.default ?? ''}\` | ${rolesOf(s)} |`);
  const sections = settings.flatMap((s) => [`### \`${s.name}\``, '', s.description, '']);
  return ['| setting | default | roles |', '| --- | --- | --- |', ...rows, '', ...sections].join('\n').trim();
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

/** The text between the settings markers of `doc` (trimmed), or undefined when a marker is missing. */
export function generatedSection(doc: string): string | undefined {
  const start = doc.indexOf(SECTION_START);
  const end = doc.indexOf(SECTION_END);
  if (start < 0 || end < start) return undefined;
  return doc.slice(start + SECTION_START.length, end).trim();
}

/** `doc` with the text between the settings markers replaced by `section`. */
export function withGeneratedSection(doc: string, section: string): string {
  const start = doc.indexOf(SECTION_START);
  const end = doc.indexOf(SECTION_END);
  if (start < 0 || end < start) {
    throw new Error(`${SETTINGS_DOC} has no ${SECTION_START} ... ${SECTION_END} markers`);
  }
  return `${doc.slice(0, start + SECTION_START.length)}\n\n${section}\n\n${doc.slice(end)}`;
}
