// `payflow controller [--config FILE] [--data-dir DIR] [--log-format pretty|json]`: the main
// job. With no config it runs on the defaults; a bad config is refused at start with the
// line and path of every bad field. It prints where it really listens (for a wildcard bind:
// all interfaces, and this machine's addresses) and stops cleanly on SIGINT, SIGTERM, SIGHUP
// and, under npx, when npx is killed (src/cli/stop-signals.ts). Logs go to stderr, readable
// on a terminal and JSON lines otherwise; stdout carries the status lines.
import { resolve } from 'node:path';
import { flagString, parseArgs, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { ConfigError, loadConfig } from '../../config/load.js';
import type { PayflowConfig } from '../../config/types.js';
import { startController, type RunningController } from '../../app/main.js';
import { createLogger, LOG_FORMATS, type LogFormat } from '../../util/logging.js';
import { describeListen } from '../listen-addresses.js';
import { onStopRequest } from '../stop-signals.js';

const usage = [
  'usage: payflow controller [--config FILE] [--data-dir DIR] [--log-format pretty|json]',
  '',
  '  --config FILE    payflow.yaml (default: the built-in defaults; docs/configuration.md)',
  '  --data-dir DIR   where the SQLite store, the local ledger and the operator key live',
  '                   (overrides dataDir in the config; default ./payflow-data)',
  '  --log-format F   pretty (one readable line per entry) or json (one JSON object per line);',
  '                   default: pretty when stderr is a terminal, json otherwise',
  '',
  'Serves the HTTP API (default 127.0.0.1:8080) and listens for OpenFlow switches',
  '(default 0.0.0.0:6653). docs/controller.md describes the API. Each HTTP request is',
  'logged at debug level (log.level: debug in the config).',
].join('\n');

/** The status lines: where the API and OpenFlow listen, and where the data is. */
function banner(running: RunningController, config: PayflowConfig): string {
  const addr = running.app.server.address();
  const api = addr && typeof addr === 'object' ? describeListen({ address: addr.address, port: addr.port }, 'http') : { main: running.url, reachable: [] };
  const ofAddr = running.openflowAddress ?? config.openflow.listen;
  const enabled = config.openflow.enabled !== false;
  const of = enabled ? describeListen({ address: ofAddr.host, port: ofAddr.port }) : { main: '', reachable: [] };
  const lines = [`payflow controller: API on ${api.main}, OpenFlow ${enabled ? `on ${of.main}` : 'disabled (reservations not enforced)'}, data in ${resolve(config.dataDir)}`];
  if (api.reachable.length) lines.push(`  API reachable at ${api.reachable.join(', ')}`);
  if (of.reachable.length) lines.push(`  OpenFlow reachable at ${of.reachable.join(', ')}`);
  return lines.join('\n');
}

export const controllerCommand: Command = {
  name: 'controller',
  usage,
  async run(argv) {
    const args = parseArgs(argv, { values: ['config', 'data-dir', 'log-format'] });
    if (args.positionals.length) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
    const formatText = flagString(args, 'log-format');
    if (formatText !== undefined && !(LOG_FORMATS as readonly string[]).includes(formatText)) throw new UsageError(`--log-format must be ${LOG_FORMATS.join(' or ')}, got '${formatText}'`);
    const file = flagString(args, 'config');
    let config;
    try {
      config = loadConfig(file === undefined ? undefined : resolve(file));
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`payflow controller: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
    const dataDir = flagString(args, 'data-dir');
    if (dataDir !== undefined) config.dataDir = dataDir;
    const logger = createLogger(config.log.level, formatText as LogFormat | undefined);
    // Listen for a stop from the start: a SIGTERM during start-up stops it once it is up.
    let stopRequested: ((reason: string) => void) | undefined;
    const early: string[] = [];
    const removeStopHandlers = onStopRequest((reason) => (stopRequested ? stopRequested(reason) : early.push(reason)));
    let running: RunningController;
    try {
      running = await startController(config, { logger });
    } catch (err) {
      removeStopHandlers();
      throw err;
    }
    process.stdout.write(banner(running, config) + '\n');
    return await new Promise<number>((done) => {
      stopRequested = (reason: string): void => {
        logger.info({ reason }, 'stopping');
        running.close().then(
          () => done(0),
          (err: unknown) => {
            process.stderr.write(`payflow controller: error while stopping: ${String(err)}\n`);
            done(1);
          },
        );
      };
      if (early.length) stopRequested(early[0]!);
    });
  },
};
