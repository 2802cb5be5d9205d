// Reading payflow.yaml: YAML 1.2 (the yaml package) → plain values → validateConfig.
// YAML syntax errors, duplicate keys and alias bombs become issues too (path "" with the
// line), so a bad file is always refused with a ConfigError listing every problem.
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { PayflowConfig } from './types.js';
import { defaultConfig } from './defaults.js';
import { formatIssues, validateConfig, type ConfigIssue, type ConfigResult } from './validate.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly issues: readonly ConfigIssue[],
    readonly source?: string,
  ) {
    super(`invalid configuration${source ? ` in ${source}` : ''} (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${formatIssues(issues)}`);
  }
}

const MAX_CONFIG_BYTES = 1 << 20;

/** Parses and validates YAML text; never throws. */
export function parseConfigText(text: string): ConfigResult {
  if (text.length > MAX_CONFIG_BYTES) return { ok: false, issues: [{ path: '', message: `file is larger than ${MAX_CONFIG_BYTES} bytes` }] };
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length) {
    return { ok: false, issues: doc.errors.map((e) => ({ path: '', message: `YAML: ${e.message.split('\n')[0]}` })) };
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return { ok: false, issues: [{ path: '', message: `YAML: ${(e as Error).message}` }] };
  }
  return validateConfig(raw);
}

/** Reads and validates a file; throws ConfigError (with every issue) when it is bad or unreadable. */
export function loadConfigFile(file: string): PayflowConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([{ path: '', message: `cannot read the file: ${(e as Error).message}` }], file);
  }
  const result = parseConfigText(text);
  if (!result.ok) throw new ConfigError(result.issues, file);
  return result.config;
}

/** The configuration the controller runs with: the file when given, else the defaults. */
export function loadConfig(file?: string): PayflowConfig {
  return file === undefined ? defaultConfig() : loadConfigFile(file);
}
