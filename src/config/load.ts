// Reading payflow.yaml: YAML 1.2 (the yaml package) → plain values → validateConfig.
// YAML syntax errors, duplicate keys and alias bombs become issues too (path ""), so a bad
// file is always refused with a ConfigError listing every problem. Every issue that can be
// placed in the text carries its line and column (1-based): a syntax error where the parser
// stopped, a bad field where its value (or, for an unknown key, the key) is written.
import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { PayflowConfig } from './types.js';
import { defaultConfig } from './defaults.js';
import { validateConfig, type ConfigIssue } from './validate.js';

/** A configuration problem, with where it is in the file when that is known. */
export interface LocatedConfigIssue extends ConfigIssue {
  /** 1-based line of the offending text */
  line?: number;
  /** 1-based column of the offending text */
  column?: number;
}

export type LocatedConfigResult = { ok: true; config: PayflowConfig } | { ok: false; issues: LocatedConfigIssue[] };

/** One issue per line: `line 3, column 9: http.listen: must be host:port`. */
export function formatLocatedIssues(issues: readonly LocatedConfigIssue[]): string {
  return issues
    .map((i) => {
      const where = i.line === undefined ? '' : `line ${i.line}${i.column === undefined ? '' : `, column ${i.column}`}: `;
      return `${where}${i.path ? `${i.path}: ` : ''}${i.message}`;
    })
    .join('\n');
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly issues: readonly LocatedConfigIssue[],
    readonly source?: string,
  ) {
    super(`invalid configuration${source ? ` in ${source}` : ''} (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${formatLocatedIssues(issues)}`);
  }
}

const MAX_CONFIG_BYTES = 1 << 20;

/** The yaml package's message without its " at line L, column C:" tail and the source excerpt after it. */
function yamlProblem(message: string): string {
  const first = message.split('\n')[0]!.trim();
  return first.replace(/\s*at line \d+, column \d+:?$/, '').replace(/:$/, '') || 'malformed YAML';
}

/** `classes[1].target` → ['classes', 1, 'target']. */
function pathSegments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}

/**
 * Where the field at `path` is written: the deepest node along the path that exists (its
 * value, or its key when the value is missing or `atKey` asks for the key: an unknown key).
 */
function offsetOf(doc: Document, path: string, atKey: boolean): number | undefined {
  let node: unknown = doc.contents;
  let at = isNodeWithRange(node) ? node.range[0] : undefined;
  const segments = pathSegments(path);
  for (const [i, segment] of segments.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      if (isNodeWithRange(pair.key)) at = pair.key.range[0];
      if (atKey && i === segments.length - 1) break;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
    } else break;
    if (!isNodeWithRange(node)) break;
    at = node.range[0];
  }
  return at;
}

function isNodeWithRange(node: unknown): node is Node & { range: [number, number, number] } {
  return typeof node === 'object' && node !== null && Array.isArray((node as { range?: unknown }).range);
}

/** Where the first alias is (toJS refuses aliases it cannot resolve and alias bombs). */
function firstAliasOffset(doc: Document): number | undefined {
  let at: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      at = node.range?.[0];
      return visit.BREAK;
    },
  });
  return at;
}

/** Parses and validates YAML text; never throws. */
export function parseConfigText(text: string): LocatedConfigResult {
  if (text.length > MAX_CONFIG_BYTES) return { ok: false, issues: [{ path: '', message: `file is larger than ${MAX_CONFIG_BYTES} bytes` }] };
  const lines = new LineCounter();
  const located = (issue: ConfigIssue, offset: number | undefined): LocatedConfigIssue => {
    if (offset === undefined) return issue;
    const { line, col } = lines.linePos(offset);
    return { ...issue, line, column: col };
  };
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true, lineCounter: lines });
  if (doc.errors.length) {
    return { ok: false, issues: doc.errors.map((e) => located({ path: '', message: `YAML: ${yamlProblem(e.message)}` }, e.pos[0])) };
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return { ok: false, issues: [located({ path: '', message: `YAML: ${yamlProblem((e as Error).message)}` }, firstAliasOffset(doc))] };
  }
  const result = validateConfig(raw);
  if (result.ok) return result;
  return { ok: false, issues: result.issues.map((i) => located(i, offsetOf(doc, i.path, i.message.startsWith('unknown key')))) };
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
