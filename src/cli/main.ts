#!/usr/bin/env node
// The `payflow` command: dispatches to the subcommands in src/cli/commands/, loading only the
// one that runs (command-table.ts), and answers `--version` / `-V` with the version in the
// installed package.json.
import { UsageError } from './args.js';
import { commandTable } from './command-table.js';
import { packageInfo } from '../util/package-info.js';

function help(): string {
  const width = Math.max(...commandTable.map((c) => c.name.length));
  return [
    'usage: payflow <command> [options]',
    '       payflow --version',
    '',
    'commands:',
    ...commandTable.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `payflow <command> --help` for the options of one command.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help() + '\n');
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    const { name: pkg, version } = packageInfo();
    process.stdout.write(`${pkg} ${version}\n`);
    return 0;
  }
  const entry = commandTable.find((c) => c.name === name);
  if (!entry) {
    process.stderr.write(`payflow: unknown command '${name}'\n\n${help()}\n`);
    return 2;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.usage + '\n');
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`payflow ${name}: ${err.message}\n\n${command.usage}\n`);
      return 2;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`payflow ${name}: ${message}\n`);
    if (process.env['PAYFLOW_DEBUG'] && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`payflow: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
