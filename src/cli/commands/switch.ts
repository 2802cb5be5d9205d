// `payflow switch`: runs an OpenFlow 1.3 software switch on Linux interfaces (AF_PACKET
// sockets, a datapath thread) that dials its controller or listens for one, as Open vSwitch
// does with `tcp:` and `ptcp:` targets. docs/switch.md describes what it supports.
import { UsageError } from '../args.js';
import type { Command } from '../command.js';
import { parseDpid } from '../../util/dpid.js';
import { formatRate, parseRate } from '../../util/units.js';
import type { SwitchOptions } from '../../switch/agent.js';

const usage = [
  'usage: payflow switch (--controller tcp:HOST:PORT | --listen ptcp:PORT[:HOST]) --port NAME[@RATE] [--port NAME[@RATE] ...]',
  '                      [--dpid HEX] [--queue ID:WEIGHT ...] [--sched drr|strict] [--datapath wasm|ts] [--batch N]',
  '                      [--fail secure|standalone]',
  '',
  '  --controller tcp:HOST:PORT  dial this controller, redialling with backoff when it is lost',
  '  --listen ptcp:PORT[:HOST]   listen for controllers (and ovs-ofctl) on PORT (HOST default 0.0.0.0)',
  '  --port NAME[@RATE]          a Linux interface to switch; ports are numbered 1, 2, … in order.',
  '                              With @RATE (10mbit, 1gbit, …) the switch shapes the port\'s output to RATE',
  '                              and queues what waits in its egress queues',
  '  --queue ID:WEIGHT           weight of egress queue ID (0..7 classes, 8 and up per-flow queues; default 1)',
  '                              Ids of 1024 and up carry their weight: id = (rate in kbyte/s) << 10 | n',
  '                              weighs the rate in Mbit/s (n = 0..1023 tells queues of one rate apart).',
  '                              The PayFlow controller gives each reserved flow such a queue (set_queue).',
  '  --sched drr|strict          how a shaped port\'s queues share it: deficit round robin by weight (default)',
  '                              or strict priority (the highest queue id first)',
  '  --dpid HEX                  datapath id (default: the first port\'s MAC address)',
  '  --batch N                   frames per receive batch and per send (default 64)',
  '  --datapath wasm|ts          the pipeline: WebAssembly (default) or its TypeScript twin',
  '  --fail secure|standalone    without its --controller: keep to the flow table and send nothing to a',
  '                              controller (secure, default), or switch as a learning bridge until the',
  '                              controller is back, then through its flow table again (standalone)',
  '',
  'Needs root (raw sockets). Flows stay installed when the controller goes, in both fail modes.',
  'A shaped port queues at most 50 ms of its rate; when full, the lowest queue id loses frames first.',
].join('\n');

function parse(argv: string[]): SwitchOptions {
  const ports: string[] = [];
  const options: SwitchOptions = { ports };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      const v = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (v === undefined || v === '') throw new UsageError(`${name} needs a value`);
      return v;
    };
    switch (name) {
      case '--port': {
        const spec = value();
        const at = spec.indexOf('@');
        const portName = at < 0 ? spec : spec.slice(0, at);
        if (portName === '') throw new UsageError(`--port ${spec}: no interface name`);
        ports.push(portName);
        if (at >= 0) {
          const rate = parseRate(spec.slice(at + 1), { minBps: 8000 });
          if (!rate.ok) throw new UsageError(`--port ${spec}: ${rate.error}`);
          (options.portRatesBps ??= {})[portName] = rate.value;
        }
        break;
      }
      case '--queue': {
        const m = /^(\d+):(\d+)$/.exec(value());
        const id = m ? Number(m[1]) : NaN;
        const weight = m ? Number(m[2]) : NaN;
        if (!m || !Number.isSafeInteger(id) || id > 0xfffffffe || weight < 1 || weight > 1000) {
          throw new UsageError('--queue takes ID:WEIGHT, a queue id and an integer weight from 1 to 1000');
        }
        (options.queueWeights ??= []).push([id, weight]);
        break;
      }
      case '--sched': {
        const v = value();
        if (v !== 'drr' && v !== 'strict') throw new UsageError('--sched takes drr or strict');
        options.scheduler = v;
        break;
      }
      case '--controller': {
        const m = /^tcp:(.+):(\d+)$/.exec(value());
        if (!m) throw new UsageError('--controller takes tcp:HOST:PORT');
        options.controller = { host: m[1]!, port: tcpPort(m[2]!) };
        break;
      }
      case '--listen': {
        const m = /^ptcp:(\d+)(?::(.+))?$/.exec(value());
        if (!m) throw new UsageError('--listen takes ptcp:PORT or ptcp:PORT:HOST');
        options.listen = { port: tcpPort(m[1]!), host: m[2] ?? '0.0.0.0' };
        break;
      }
      case '--dpid': {
        const r = parseDpid(value());
        if (!r.ok) throw new UsageError(`--dpid ${r.error}`);
        options.dpid = r.dpid;
        break;
      }
      case '--batch': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1 || n > 1024) throw new UsageError('--batch takes an integer from 1 to 1024');
        options.batch = n;
        break;
      }
      case '--datapath': {
        const v = value();
        if (v !== 'wasm' && v !== 'ts') throw new UsageError('--datapath takes wasm or ts');
        options.datapath = v;
        break;
      }
      case '--fail': {
        const v = value();
        if (v !== 'secure' && v !== 'standalone') throw new UsageError('--fail takes secure or standalone');
        options.failMode = v;
        break;
      }
      default:
        throw new UsageError(arg.startsWith('--') ? `unknown option ${name}` : `unexpected argument '${arg}'`);
    }
  }
  if (!options.controller && !options.listen) throw new UsageError('give --controller tcp:HOST:PORT or --listen ptcp:PORT');
  if (ports.length === 0) throw new UsageError('give at least one --port NAME');
  if (new Set(ports).size !== ports.length) throw new UsageError('a --port is named twice');
  return options;
}

function tcpPort(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`bad TCP port ${text}`);
  return n;
}

export const switchCommand: Command = {
  name: 'switch',
  usage,
  async run(argv) {
    const options = parse(argv);
    if (typeof process.getuid === 'function' && process.getuid() !== 0) {
      process.stderr.write('payflow switch: needs root (raw packet sockets need CAP_NET_RAW)\n');
      return 1;
    }
    // Loaded here so other commands do not pay for the FFI library's native module.
    const { SoftwareSwitch } = await import('../../switch/agent.js');
    const sw = await SoftwareSwitch.start(options);
    sw.on('log', (line) => process.stderr.write(`payflow switch: ${line}\n`));
    const where = [
      options.listen ? `listening on ${sw.listenAddress?.address}:${sw.listenAddress?.port}` : undefined,
      options.controller ? `controller ${options.controller.host}:${options.controller.port}` : undefined,
    ].filter(Boolean);
    process.stdout.write(`payflow switch: dpid ${sw.dpid.toString(16).padStart(16, '0')}, ports ${options.ports.map((p, i) => `${i + 1}=${p}${options.portRatesBps?.[p] ? `@${formatRate(options.portRatesBps[p])}` : ''}`).join(' ')}, ${where.join(', ')}\n`);
    return await new Promise<number>((done) => {
      const stop = (): void => {
        sw.close().then(() => done(0), () => done(1));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  },
};
