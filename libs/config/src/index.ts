// The config lib's public surface: the settings class, its loader, its module and its reference docs.
export { FunnelConfigModule } from './config.module.js';
export {
  FunnelConfig,
  GRANULARITIES,
  LOG_LEVELS,
  parseRetentionMs,
  ROLES,
  type FunnelRole,
  type LogLevel,
  type TiersHaltPoint,
  type TimeSeriesGranularity,
} from './funnel-config.js';
export { ConfigError, loadConfig } from './load-config.js';
export { listSettings, type SettingInfo } from './setting.decorator.js';
export {
  SETTINGS_DOC,
  generatedSection,
  settingsHelp,
  settingsReference,
  withGeneratedSection,
} from './settings-docs.js';
