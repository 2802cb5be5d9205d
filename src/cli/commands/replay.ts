// `payflow replay FILE [--rules FILE] [--json] [--engine wasm|ts] [--batch N] [--max-flows N]
// [--progress|--quiet]`: runs a capture (classic pcap or pcapng) through the data plane and prints
// per-flow counts and the packet rate achieved (docs/replay.md). With --json, stdout carries
// exactly one JSON object `{ packets, malformed, flows: [ { src, dst, proto, sport, dport,
// flowLabel, dscp, packets, bytes, etherType, etherTypeName } ] }`; the rate goes to stderr.
// Frames that are not IP are one row per EtherType: `arp (0x0806)` in the table, src and dst
// null in the JSON.
// A capture cut short is replayed up to the cut: the output gains a `truncated` entry (JSON:
// `"truncated": { offset, records }`, only then) and the exit status is EXIT_TRUNCATED, so a
// script can tell "replayed, but the file is incomplete" from success and from failure.
import { stat } from 'node:fs/promises';
import { CaptureError, type CaptureFormat } from '../../dataplane/capture/index.js';
import { replayCapture, type ReplayProgress, type ReplayResult, type ReplayTruncation } from '../../dataplane/capture/replay.js';
import { loadReplayRules, RulesFileError, type ReplayRules } from '../../dataplane/capture/replay-rules.js';
import { etherTypeLabel } from '../../dataplane/capture/ethertypes.js';
import { flagBool, flagString, parseArgs, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { formatPrice } from '../money.js';
import { table } from '../table.js';

/** Exit statuses (documented in the usage text and docs/replay.md). */
const EXIT_OK = 0;
/** cannot read the file, not a capture, corrupt, truncated file header, bad rules file */
const EXIT_ERROR = 1;
// 2 is a usage error: src/cli/main.ts returns it for a UsageError
/** replayed, but the capture ends inside a record or block: the counts cover what came before */
const EXIT_TRUNCATED = 3;

/** Files at least this large show a progress line on stderr unless --quiet. */
const PROGRESS_FROM_BYTES = 32 << 20;
/** Flows listed in the table (all of them are in --json). */
const TABLE_FLOWS = 20;

function positiveInt(text: string | undefined, name: string, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`--${name} must be an integer in 1..${max}, got '${text}'`);
  return n;
}

function rate(packets: number, seconds: number): string {
  if (!(seconds > 0)) return 'n/a';
  const pps = packets / seconds;
  return pps >= 1e6 ? `${(pps / 1e6).toFixed(2)} Mpps` : `${(pps / 1e3).toFixed(1)} kpps`;
}

function progressLine(p: ReplayProgress): string {
  const pct = p.fileSize > 0 ? ((100 * p.bytesRead) / p.fileSize).toFixed(1) : '?';
  return `replay: ${pct}% of ${(p.fileSize / 2 ** 20).toFixed(1)} MiB, ${p.packets} packets, ${rate(p.packets, p.elapsedSeconds)}`;
}

/** The table's line on a truncated capture. */
function truncationLine(t: ReplayTruncation, format: CaptureFormat): string {
  const unit = format === 'pcapng' ? 'block' : 'record';
  return `truncated: the file (${t.fileSize} bytes) ends inside the ${unit} at byte ${t.offset}; the ${t.records} complete packet records before it were replayed`;
}

function summary(r: ReplayResult, path: string): string {
  const lines: string[] = [];
  lines.push(`${path}: ${r.format}, ${r.packets} packets, ${r.malformed} malformed` + (r.unsupportedLinkType ? ` (${r.unsupportedLinkType} of an unsupported link type)` : ''));
  if (r.truncated) lines.push(truncationLine(r.truncated, r.format));
  lines.push(
    `engine ${r.engine}: ${r.packets} packets in ${r.wallSeconds.toFixed(3)} s = ${rate(r.packets, r.wallSeconds)} overall, ` +
      `${rate(r.packets - r.unsupportedLinkType, r.engineSeconds)} in the engine; capture spans ${(r.captureSpanNs / 1e9).toFixed(3)} s`,
  );
  const c = r.counters;
  lines.push(`verdicts: ${c.actions[0]} forward, ${c.actions[1]} downgraded, ${c.actions[2]} dropped; colours: ${c.colors[0]} green, ${c.colors[1]} yellow, ${c.colors[2]} red`);
  for (const k of r.classes) lines.push(`class ${k.id}: price ${formatPrice(k.price)} per Mbit, demand ${(k.demand / 1e6).toFixed(3)} Mbit/s`);
  const nonIp = r.flows.filter((f) => !f.ip).length;
  const counted = `${r.flows.length - nonIp} flows` + (nonIp ? ` and ${nonIp} non-IP EtherType${nonIp === 1 ? '' : 's'}` : '');
  lines.push(`${counted}${r.flows.length > TABLE_FLOWS ? ` (the ${TABLE_FLOWS} largest; --json lists all)` : ''}:`);
  const rows = r.flows.slice(0, TABLE_FLOWS).map((f) =>
    f.ip
      ? [f.src ?? '', f.dst ?? '', String(f.proto), String(f.sport), String(f.dport), String(f.flowLabel), String(f.dscp), String(f.packets), String(f.bytes), f.colors.join('/')]
      : [etherTypeLabel(f.etherType), '(not IP)', '-', '-', '-', '-', '-', String(f.packets), String(f.bytes), f.colors.join('/')],
  );
  lines.push(table(['src', 'dst', 'proto', 'sport', 'dport', 'label', 'dscp', 'packets', 'bytes', 'green/yellow/red'], rows, { right: [2, 3, 4, 5, 6, 7, 8, 9] }));
  return lines.join('\n');
}

export const replayCommand: Command = {
  name: 'replay',
  usage: [
    'usage: payflow replay FILE [--rules FILE] [--json] [--engine wasm|ts] [--batch N] [--max-flows N] [--progress|--quiet]',
    '',
    '  FILE         a classic pcap (µs or ns, or Kuznetsov\'s modified format; either byte order) or pcapng capture',
    '  --rules      JSON or YAML: wildcard rules, meters, classes, default action (docs/replay.md)',
    '  --json       print one JSON object { packets, malformed, flows: [...] } on stdout',
    '               (frames that are not IP: one flow per EtherType, src and dst null)',
    '               (plus "truncated": { offset, records } for a capture cut short)',
    '  --engine     wasm (default, build/payflow.wasm) or ts (the plain-TypeScript twin)',
    '  --batch      frames per engine call, 1..1024 (default 256)',
    '  --max-flows  exact-match flow table capacity (default 262144)',
    '  --progress   always show the progress line on stderr (default: for files of 32 MiB and more)',
    '  --quiet      never show it',
    '',
    'exit status:',
    '  0  the whole capture replayed',
    '  1  the file cannot be read, is not a capture, is corrupt or its file header is cut short;',
    '     or a bad rules file',
    '  2  bad options',
    '  3  replayed, but the capture is truncated (it ends inside a record or block): the output',
    '     counts the complete records before the cut and says where it is',
  ].join('\n'),
  async run(argv) {
    const args = parseArgs(argv, { values: ['rules', 'engine', 'batch', 'max-flows'], switches: ['json', 'progress', 'quiet'] });
    if (args.positionals.length !== 1) throw new UsageError('expected exactly one capture FILE');
    const path = args.positionals[0]!;
    const engine = flagString(args, 'engine') ?? 'wasm';
    if (engine !== 'wasm' && engine !== 'ts') throw new UsageError(`--engine must be wasm or ts, got '${engine}'`);
    const batchSize = positiveInt(flagString(args, 'batch'), 'batch', 1024);
    const flowCapacity = positiveInt(flagString(args, 'max-flows'), 'max-flows', 1 << 24);
    const json = flagBool(args, 'json');
    let rules: ReplayRules | undefined;
    const rulesPath = flagString(args, 'rules');
    try {
      if (rulesPath !== undefined) rules = await loadReplayRules(rulesPath);
    } catch (err) {
      if (err instanceof RulesFileError) {
        process.stderr.write(`payflow replay: bad rules file: ${err.message}\n`);
        return EXIT_ERROR;
      }
      throw err;
    }
    let size = 0;
    try {
      size = (await stat(path)).size;
    } catch {
      // openCapture reports the problem
    }
    const showProgress = !flagBool(args, 'quiet') && (flagBool(args, 'progress') || size >= PROGRESS_FROM_BYTES);
    const tty = process.stderr.isTTY === true;
    let progressShown = false;
    try {
      const result = await replayCapture(path, {
        engine,
        ...(rules ? { rules } : {}),
        ...(batchSize ? { batchSize } : {}),
        ...(flowCapacity ? { flowCapacity } : {}),
        ...(showProgress
          ? {
              onProgress: (p: ReplayProgress) => {
                progressShown = true;
                process.stderr.write(tty ? `\r${progressLine(p)}\x1b[K` : `${progressLine(p)}\n`);
              },
            }
          : {}),
      });
      if (showProgress) {
        // the closing progress line: the whole file read
        const done = progressLine({ packets: result.packets, bytesRead: size, fileSize: size, elapsedSeconds: result.wallSeconds });
        process.stderr.write(tty ? `\r${done}\x1b[K\n` : `${done}\n`);
      }
      if (json) {
        const flows = result.flows.map((f) => ({
          src: f.src, dst: f.dst, proto: f.proto, sport: f.sport, dport: f.dport, flowLabel: f.flowLabel, dscp: f.dscp, packets: f.packets, bytes: f.bytes,
          etherType: f.etherType, etherTypeName: f.etherTypeName,
        }));
        // the documented fields as they were; `truncated` only added when the capture is cut short
        const truncated = result.truncated ? { truncated: { offset: result.truncated.offset, records: result.truncated.records } } : {};
        process.stdout.write(JSON.stringify({ packets: result.packets, malformed: result.malformed, flows, ...truncated }) + '\n');
        process.stderr.write(`replay: ${result.packets} packets in ${result.wallSeconds.toFixed(3)} s, ${rate(result.packets, result.wallSeconds)}\n`);
      } else {
        process.stdout.write(summary(result, path) + '\n');
      }
      if (result.truncated) {
        process.stderr.write(`payflow replay: warning: ${result.truncated.message}\n`);
        return EXIT_TRUNCATED;
      }
      return EXIT_OK;
    } catch (err) {
      if (progressShown && tty) process.stderr.write('\n');
      if (err instanceof CaptureError) {
        process.stderr.write(`payflow replay: ${err.message}\n`);
        return EXIT_ERROR;
      }
      if (err instanceof RulesFileError) {
        process.stderr.write(`payflow replay: bad rules file: ${err.message}\n`);
        return EXIT_ERROR;
      }
      throw err;
    }
  },
};
