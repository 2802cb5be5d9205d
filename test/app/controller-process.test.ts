// `payflow controller` as a process: the banner names the addresses it really listens on
// (a wildcard bind is "all interfaces", never 127.0.0.1), --log-format json|pretty, request
// logs only at debug, and it stops (port freed) on SIGTERM, SIGHUP and when the `npx` that
// started it is killed: npm runs the bin through `sh -c`, which dies of the SIGTERM without
// passing it on. Needs `npm run build` first (npm test does it).
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startController } from '../../src/app/main.js';
import { requestLogsAtDebug } from '../../src/util/logging.js';
import { CLI, configText, tempDir, testConfig, TestNetwork } from '../reservations/helpers.js';
import { jsonLogSink } from '../helpers/log-sink.js';

const t = tempDir('payflow-ctl-process-');
afterAll(() => t.cleanup());

interface Proc {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(command: string, args: string[]): Proc {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function until(what: string, test: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** True when nothing listens on 127.0.0.1:port (we can bind it ourselves). */
function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

/** Pids of the processes whose command line contains `text` (Linux /proc). */
function processesWith(text: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(text)) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A config file (static topology, no switches) whose API listens on `listen`. */
function config(name: string, listen: string, level = 'info'): string {
  const file = join(t.dir, `${name}.yaml`);
  const text = configText(join(t.dir, name)).replace('http: { listen: "127.0.0.1:0"', `http: { listen: "${listen}"`).replace('log: { level: warn }', `log: { level: ${level} }`);
  writeFileSync(file, text);
  return file;
}

describe('payflow controller (the process)', () => {
  it('a wildcard bind: the banner says all interfaces and lists this machine\'s addresses; JSON logs; SIGTERM frees the port', async () => {
    const port = await freePort();
    const p = start(process.execPath, [CLI, 'controller', '--config', config('wildcard', `0.0.0.0:${port}`), '--log-format', 'json']);
    await until('the banner', () => /reachable at/.test(p.stdout()));
    expect(p.stdout()).toMatch(new RegExp(`^payflow controller: API on http://0\\.0\\.0\\.0:${port} \\(all interfaces\\), OpenFlow disabled`, 'm'));
    expect(p.stdout()).toMatch(new RegExp(`^ {2}API reachable at http://127\\.0\\.0\\.1:${port}(, |$)`, 'm'));
    expect(p.stdout()).not.toMatch(/API on http:\/\/127\.0\.0\.1/);
    const r = await fetch(`http://127.0.0.1:${port}/v1/menu`);
    expect(r.status).toBe(200);
    p.child.kill('SIGTERM');
    expect(await p.exited).toEqual({ code: 0, signal: null });
    const logs = p.stderr().trim().split('\n').map((l) => JSON.parse(l) as { level: number; msg: string; reason?: string });
    expect(logs.find((l) => l.msg === 'stopping')).toMatchObject({ level: 30, reason: 'SIGTERM' });
    // at info, a request writes no log line
    expect(logs.some((l) => /request/.test(l.msg))).toBe(false);
    expect(await portFree(port)).toBe(true);
  });

  it('--log-format pretty: one readable line per entry; SIGHUP stops it cleanly', async () => {
    const port = await freePort();
    const p = start(process.execPath, [CLI, 'controller', '--config', config('pretty', `127.0.0.1:${port}`, 'debug'), '--log-format', 'pretty']);
    await until('the banner', () => /API on/.test(p.stdout()));
    expect(p.stdout()).toMatch(new RegExp(`^payflow controller: API on http://127\\.0\\.0\\.1:${port}, OpenFlow disabled`, 'm'));
    await fetch(`http://127.0.0.1:${port}/v1/prices`);
    await until('the request log', () => /request completed/.test(p.stderr()));
    p.child.kill('SIGHUP');
    expect(await p.exited).toEqual({ code: 0, signal: null });
    const lines = p.stderr().trim().split('\n');
    for (const l of lines) expect(l).toMatch(/^\d\d:\d\d:\d\d\.\d{3} (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) /);
    expect(lines.find((l) => l.includes('request completed'))).toMatch(/^\S+ DEBUG \[api\] request completed /);
    expect(lines.find((l) => l.includes('stopping'))).toMatch(/ INFO {2}stopping \{"reason":"SIGHUP"\}$/);
    expect(await portFree(port)).toBe(true);
  });

  it('refuses an unknown --log-format', async () => {
    const p = start(process.execPath, [CLI, 'controller', '--log-format', 'xml']);
    expect((await p.exited).code).toBe(2);
    expect(p.stderr()).toMatch(/--log-format must be pretty or json, got 'xml'/);
  });

  it('killing the npx that started it stops the controller and frees its port', async () => {
    const port = await freePort();
    const file = config('npx', `127.0.0.1:${port}`);
    const p = start('npx', ['--no-install', 'payflow', 'controller', '--config', file, '--log-format', 'json']);
    await until('the banner', () => /API on/.test(p.stdout()), 90_000);
    expect(await portFree(port)).toBe(false);
    p.child.kill('SIGTERM'); // the npx (npm exec) process, not the controller
    await p.exited;
    try {
      await until(`port ${port} to be free`, () => portFree(port), 15_000);
    } finally {
      // if it failed, end the orphan this test started (found by its unique config path)
      for (const pid of processesWith(file)) process.kill(pid, 'SIGKILL');
    }
  });
});

describe('request logs', () => {
  async function requestLog(level: string): Promise<{ level: number; msg: string }[]> {
    const lines: { level: number; msg: string }[] = [];
    const sink = jsonLogSink(lines);
    const dir = join(t.dir, `requests-${level}`);
    const running = await startController(testConfig(dir), { network: new TestNetwork(), logger: pino({ level, hooks: requestLogsAtDebug }, sink) });
    try {
      await fetch(`${running.url}/v1/menu`);
    } finally {
      await running.close();
    }
    return lines.filter((l) => l.msg === 'incoming request' || l.msg === 'request completed');
  }

  it('are written at debug level, and not at all at info', async () => {
    expect(await requestLog('info')).toEqual([]);
    const debug = await requestLog('debug');
    expect(debug.map((l) => [l.level, l.msg])).toEqual([
      [20, 'incoming request'],
      [20, 'request completed'],
    ]);
  });
});
