// The configuration area's public surface: payflow.yaml schema, defaults, validation, loading.
export type * from './types.js';
export { defaultConfig, DEFAULT_CLASSES, DEFAULT_MAX_PRICE_FACTOR } from './defaults.js';
export { validateConfig, formatIssues, parseListen, policingOf, excessOf, CLASS_ID_PATTERN, type ConfigIssue, type ConfigResult } from './validate.js';
export { ConfigError, parseConfigText, loadConfigFile, loadConfig } from './load.js';
