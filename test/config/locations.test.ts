// Where a configuration problem is: every YAML syntax error and every bad field is reported
// with its 1-based line and column, and no message ends in a bare colon (the yaml package's
// own messages end in "at line L, column C:" followed by an excerpt).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, parseConfigText, type LocatedConfigIssue } from '../../src/config/load.js';

function issues(text: string): LocatedConfigIssue[] {
  const r = parseConfigText(text);
  if (r.ok) throw new Error('expected the config to be refused');
  for (const i of r.issues) expect(i.message, JSON.stringify(i)).not.toMatch(/:\s*$/);
  return r.issues;
}

describe('YAML syntax errors name the line and column', () => {
  it.each([
    ['a duplicate key', 'stats: {}\nstats: {}\n', 2, 1, /^YAML: Map keys must be unique$/],
    ['a nested mapping in a compact one', 'http: listen: x\n', 1, 7, /^YAML: Nested mappings are not allowed in compact mappings$/],
    ['an unclosed quote', 'http:\n  listen: "127.0.0.1:8080\n', 3, 1, /^YAML: Missing closing "quote$/],
    ['an unclosed flow sequence', 'classes: [\n', 2, 1, /^YAML: Flow sequence in block collection must be sufficiently indented and end with a \]$/],
    ['a tab as indentation', 'http:\n\tlisten: x\n', 2, 1, /^YAML: Tabs are not allowed as indentation$/],
    ['an alias to no anchor', 'dataDir: *nowhere\n', 1, 10, /^YAML: Unresolved alias/],
  ])('%s', (_name, text, line, column, message) => {
    const [first] = issues(text);
    expect(first).toMatchObject({ path: '', line, column });
    expect(first!.message).toMatch(message);
  });
});

describe('bad fields name the line and column of their value', () => {
  const dir = mkdtempSync(join(tmpdir(), 'payflow-config-lines-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const text = [
    'http:',
    '  listen: nowhere', // line 2, value at column 11
    'stats: { pollInterval: 0s }', // line 3, value at column 24
    'bogus: 1', // line 4: an unknown key points at the key
    'classes:',
    '  - { id: gold, basePrice: 0.16, target: 2, share: 0.4, dscp: 46 }', // target at column 42
    '  - { id: be, basePrice: 0.04, target: 1, share: 0.6, bestEffort: true }',
    '',
  ].join('\n');

  it('each issue carries path, line and column', () => {
    const byPath = Object.fromEntries(issues(text).map((i) => [i.path, i]));
    expect(byPath['http.listen']).toMatchObject({ line: 2, column: 11 });
    expect(byPath['stats.pollInterval']).toMatchObject({ line: 3, column: 24 });
    expect(byPath['bogus']).toMatchObject({ line: 4, column: 1 });
    expect(byPath['classes[0].target']).toMatchObject({ line: 6, column: 42 });
  });

  it('the ConfigError of a file says it on each line: "line L, column C: path: problem"', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, text);
    expect(() => loadConfigFile(file)).toThrow(ConfigError);
    const lines = String(((): unknown => {
      try {
        return loadConfigFile(file);
      } catch (e) {
        return (e as Error).message;
      }
    })()).split('\n');
    expect(lines[0]).toBe(`invalid configuration in ${file} (4 problems):`);
    expect(lines).toContain('line 2, column 11: http.listen: must be "host:port" (IPv6 as "[::1]:port")');
    expect(lines).toContain('line 6, column 42: classes[0].target: must be between 0 and 1');
    expect(lines.find((l) => l.includes('bogus'))).toMatch(/^line 4, column 1: bogus: unknown key \(expected one of: .*\)$/);
    for (const l of lines.slice(1)) expect(l).not.toMatch(/:\s*$/);
  });

  it('a syntax error in a file: the line, then the problem', () => {
    const file = join(dir, 'syntax.yaml');
    writeFileSync(file, 'log: { level: info }\nlog: { level: debug }\n');
    expect(() => loadConfigFile(file)).toThrow(/\nline 2, column 1: YAML: Map keys must be unique$/);
  });
});
