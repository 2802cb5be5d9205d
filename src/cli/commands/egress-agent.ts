// `payflow egress-agent`: run on the host of a switch that is not on the controller's
// machine; applies the controller's egress classes (Linux tc htb + DSCP filters) to this
// host's switch ports, each validated against `ip link` (and Open vSwitch) here. The
// protocol and its checks are described in src/network/egress-agent.ts and docs/security.md.
import { readFileSync } from 'node:fs';
import { UsageError, flagBool, flagString, parseArgs } from '../args.js';
import type { Command } from '../command.js';
import { parseListen } from '../../config/validate.js';
import { EGRESS_AGENT_PORT, EgressAgent, type TlsMaterial } from '../../network/egress-agent.js';

const usage = [
  'usage: payflow egress-agent [--listen HOST:PORT] [--cert FILE --key FILE --ca FILE] [--no-ovs-check]',
  '',
  `  --listen HOST:PORT   where the controller reaches this agent (default 127.0.0.1:${EGRESS_AGENT_PORT});`,
  '                       an address other than loopback needs --cert, --key and --ca',
  '  --cert, --key FILE   this agent\'s certificate and key (PEM)',
  '  --ca FILE            the CA that signed the controller\'s certificate (openflow.tls.cert)',
  '  --no-ovs-check       shape any local non-loopback interface the controller names, without',
  '                       asking Open vSwitch whether it is that datapath\'s port',
  '',
  'The controller uses the agent for the switches listed in its config under egress.agents.',
  'Needs root to run tc.',
].join('\n');

function readPem(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`--${flag}: cannot read ${path}: ${(err as Error).message}`);
  }
}

export const egressAgentCommand: Command = {
  name: 'egress-agent',
  usage,
  async run(argv) {
    const args = parseArgs(argv, { values: ['listen', 'cert', 'key', 'ca'], switches: ['no-ovs-check'] });
    if (args.positionals.length) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
    const listenText = flagString(args, 'listen') ?? `127.0.0.1:${EGRESS_AGENT_PORT}`;
    const listen = parseListen(listenText);
    if (!listen.ok) throw new UsageError(`--listen ${listen.error}`);
    const files = (['cert', 'key', 'ca'] as const).map((f) => flagString(args, f));
    if (files.some((f) => f !== undefined) && files.some((f) => f === undefined)) throw new UsageError('--cert, --key and --ca go together');
    const tls: TlsMaterial | undefined = files[0] ? { cert: readPem('cert', files[0]), key: readPem('key', files[1]!), ca: readPem('ca', files[2]!) } : undefined;
    const loopback = /^(127\.|::1$|localhost$)/.test(listen.value.host);
    if (!tls && !loopback) throw new UsageError(`--listen ${listenText}: without --cert/--key/--ca the agent listens on loopback only (anyone reaching it could reshape this host's ports)`);
    if (typeof process.getuid === 'function' && process.getuid() !== 0) process.stderr.write('payflow egress-agent: not root: tc commands will be skipped\n');
    const agent = await EgressAgent.start({
      host: listen.value.host,
      port: listen.value.port,
      tls,
      checkOvs: !flagBool(args, 'no-ovs-check'),
      log: (line) => process.stdout.write(`payflow egress-agent: ${line}\n`),
    });
    process.stdout.write(`payflow egress-agent: listening on ${agent.address.address}:${agent.address.port}${tls ? ' (mutual TLS)' : ''}\n`);
    return await new Promise<number>((done) => {
      const stop = (): void => {
        agent.close().then(() => done(0), () => done(1));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  },
};
