// The controller's logger: pino, writing JSON lines (one object per line, for machines and log
// collectors) or, for a person at a terminal, one readable line per entry:
//   12:00:01.234 INFO  [api] listening {"port":8080}
// The readable form is a small formatter over pino's own output stream (each JSON line is
// parsed and printed again), so both forms carry the same fields.
// Request logs (Fastify's "incoming request" and "request completed", one pair per HTTP
// request) are demoted from info to debug: at the default level they drowned out the rest.
import pino, { type Logger, type LoggerOptions } from 'pino';

export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Fastify's per-request messages, logged at debug instead of info. */
const REQUEST_MESSAGES: ReadonlySet<string> = new Set(['incoming request', 'request completed']);
const INFO = 30;

/** pino hooks that log Fastify's per-request messages at debug. */
export const requestLogsAtDebug: NonNullable<LoggerOptions['hooks']> = {
  logMethod(args, method, level) {
    if (level === INFO && REQUEST_MESSAGES.has(String(args[args.length - 1]))) {
      (this.debug as (...a: unknown[]) => void)(...args);
      return;
    }
    method.apply(this, args);
  },
};

const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const LEVEL_COLOURS: Readonly<Record<number, string>> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '35' };
/** Fields every entry has, or that the line shows in its own place. */
const SHOWN_APART = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'component', 'err']);

function time(ms: unknown): string {
  const d = new Date(typeof ms === 'number' ? ms : Date.now());
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** One pino JSON line as a readable line (plus an error's stack below it). */
export function prettyLine(json: string, colour = false): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.trimEnd();
  }
  const level = typeof entry['level'] === 'number' ? entry['level'] : INFO;
  const name = (LEVEL_NAMES[level] ?? String(level)).padEnd(5);
  const shownLevel = colour ? `\x1b[${LEVEL_COLOURS[level] ?? '0'}m${name}\x1b[0m` : name;
  const component = typeof entry['component'] === 'string' ? ` [${entry['component']}]` : '';
  const rest = Object.fromEntries(Object.entries(entry).filter(([k]) => !SHOWN_APART.has(k)));
  const fields = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
  let line = `${time(entry['time'])} ${shownLevel}${component} ${String(entry['msg'] ?? '')}${fields}`;
  const err = entry['err'] as { message?: unknown; stack?: unknown } | undefined;
  if (err && typeof err === 'object') line += `\n    ${String(err.stack ?? err.message ?? JSON.stringify(err)).split('\n').join('\n    ')}`;
  return line;
}

/** A destination for pino that prints each entry with prettyLine. */
export function prettyStream(out: NodeJS.WritableStream & { isTTY?: boolean }): { write(chunk: string): void } {
  const colour = out.isTTY === true && process.env['NO_COLOR'] === undefined;
  return {
    write(chunk: string): void {
      for (const json of chunk.split('\n')) if (json.trim()) out.write(prettyLine(json, colour) + '\n');
    },
  };
}

/** The controller's logger on stderr, in `format` (default: pretty on a terminal, JSON otherwise). */
export function createLogger(level: string, format: LogFormat = process.stderr.isTTY ? 'pretty' : 'json'): Logger {
  const options: LoggerOptions = { level, hooks: requestLogsAtDebug };
  return format === 'pretty' ? pino(options, prettyStream(process.stderr)) : pino(options, pino.destination(2));
}
