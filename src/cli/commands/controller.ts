// `payflow controller [--config FILE] [--data-dir DIR]` (issue 5; DESIGN.md "Contracts"):
// the main job. With no config it runs on the defaults; a bad config is refused at start
// with the path of every bad field; it prints where it listens and stops cleanly on
// SIGINT / SIGTERM. Logs (pino, JSON) go to stderr; stdout carries the one status line.
import { resolve } from 'node:path';
import pino from 'pino';
import { flagString, parseArgs } from '../args.js';
import type { Command } from '../command.js';
import { ConfigError, loadConfig } from '../../config/load.js';
import { startController } from '../../app/main.js';

const usage = [
  'usage: payflow controller [--config FILE] [--data-dir DIR]',
  '',
  '  --config FILE    payflow.yaml (default: the built-in defaults; docs/configuration.md)',
  '  --data-dir DIR   where the SQLite store, the local ledger and the operator key live',
  '                   (overrides dataDir in the config; default ./payflow-data)',
  '',
  'Serves the HTTP API (default 127.0.0.1:8080) and listens for OpenFlow switches',
  '(default 0.0.0.0:6653). docs/controller.md describes the API.',
].join('\n');

export const controllerCommand: Command = {
  name: 'controller',
  summary: 'run the PayFlow controller (OpenFlow, reservations API, pricing, ledger)',
  usage,
  async run(argv) {
    const args = parseArgs(argv, { values: ['config', 'data-dir'] });
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
    const logger = pino({ level: config.log.level }, pino.destination(2));
    const running = await startController(config, { logger });
    const ofAddr = running.openflowAddress ?? config.openflow.listen;
    const of = config.openflow.enabled === false ? 'disabled (reservations not enforced)' : `on ${ofAddr.host}:${ofAddr.port}`;
    process.stdout.write(`payflow controller: API on ${running.url}, OpenFlow ${of}, data in ${resolve(config.dataDir)}\n`);
    return await new Promise<number>((done) => {
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'stopping');
        running.close().then(
          () => done(0),
          (err: unknown) => {
            process.stderr.write(`payflow controller: error while stopping: ${String(err)}\n`);
            done(1);
          },
        );
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
  },
};
