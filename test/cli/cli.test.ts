// The `payflow` command's dispatcher and the bench contract, run as a real child process.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { commandTable } from '../../src/cli/command-table.js';

const cli = 'dist/src/cli/main.js';

describe('payflow CLI', () => {
  it('lists its commands', () => {
    const out = execFileSync('node', [cli, '--help'], { encoding: 'utf8' });
    expect(out).toMatch(/usage: payflow <command>/);
    expect(out).toMatch(/\bbench\b/);
  });

  it('lists every command of the table with its summary', () => {
    const out = execFileSync('node', [cli, '--help'], { encoding: 'utf8' });
    for (const entry of commandTable) expect(out).toMatch(new RegExp(`^  ${entry.name} +${entry.summary.replace(/[()]/g, '\\$&')}$`, 'm'));
  });

  it('loads every command of the table on demand: its module has that command, and `NAME --help` prints its usage', async () => {
    expect(new Set(commandTable.map((c) => c.name)).size).toBe(commandTable.length);
    for (const entry of commandTable) {
      const command = await entry.load();
      expect(command.name).toBe(entry.name);
      expect(command.usage).toMatch(new RegExp(`^usage: payflow ${entry.name}\\b`));
      const r = spawnSync('node', [cli, entry.name, '--help'], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${command.usage}\n`);
    }
  });

  it("runs as the README's quick start calls it: npx --no-install payflow (the built bin is executable)", () => {
    const r = spawnSync('npx', ['--no-install', 'payflow', '--help'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/usage: payflow <command>/);
  });

  it('--version and -V print the version in package.json', () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = spawnSync('node', [cli, flag], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(`payflow ${version}\n`);
    }
    expect(execFileSync('node', [cli, '--help'], { encoding: 'utf8' })).toMatch(/payflow --version/);
  });

  it('refuses an unknown command with exit code 2', () => {
    const r = spawnSync('node', [cli, 'frobnicate'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
  });

  it('refuses an unknown option with the usage text', () => {
    const r = spawnSync('node', [cli, 'bench', '--fast'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown option --fast/);
    expect(r.stderr).toMatch(/usage: payflow bench/);
  });

  it('bench --json prints one JSON array in the docs/design.md shape', () => {
    const out = execFileSync('node', [cli, 'bench', '--quick', '--json', '--filter', 'harness.'], { encoding: 'utf8' });
    const results = JSON.parse(out) as Array<Record<string, unknown>>;
    expect(results.length).toBeGreaterThan(0);
    for (const r of results) {
      expect(typeof r['name']).toBe('string');
      expect(['wasm', 'ts']).toContain(r['impl']);
      expect(Number.isInteger(r['batch'])).toBe(true);
      expect(r['mpps']).toBeGreaterThan(0);
    }
  });
});
