// `payflow bench [--quick] [--json] [--filter PREFIX]`: runs the benchmark suites in
// bench/ and prints a table (or, with --json, one JSON array on stdout: the contract
// `{ name, impl, batch, mpps }`, with extra fields). bench/ is loaded with one dynamic import,
// only here: it needs the development dependencies (benny, the bench wasm module), which an
// install from the registry does not have.
import { flagBool, flagString, parseArgs } from '../args.js';
import type { Command } from '../command.js';

const MISSING_DEV_DEPENDENCIES = 'payflow bench needs the development dependencies (benny): run it from a clone after npm ci';

/** The one import of bench/ from src/. */
function importBench() {
  return import('../../../bench/main.js');
}

/** bench/main.js, or undefined when a development dependency it imports is not installed. */
async function loadBench(): Promise<Awaited<ReturnType<typeof importBench>> | undefined> {
  try {
    return await importBench();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return undefined;
    throw err;
  }
}

export const benchCommand: Command = {
  name: 'bench',
  usage: [
    'usage: payflow bench [--quick] [--json] [--filter PREFIX[,PREFIX...]]',
    '',
    '  --quick    short measurement per case (the whole run ends within a minute or so)',
    '  --json     print one JSON array of { name, impl, batch, mpps, ... } on stdout',
    '  --filter   only cases whose name starts with one of the prefixes (e.g. dataplane.)',
    '',
    'Progress goes to stderr; the table or the JSON to stdout.',
  ].join('\n'),
  async run(argv) {
    const args = parseArgs(argv, { values: ['filter'], switches: ['quick', 'json'] });
    const filter = flagString(args, 'filter')?.split(',').filter(Boolean);
    const json = flagBool(args, 'json');
    const bench = await loadBench();
    if (!bench) {
      process.stderr.write(`${MISSING_DEV_DEPENDENCIES}\n`);
      return 1;
    }
    const { formatTable, runSuites, suites } = bench;
    const started = Date.now();
    const results = await runSuites(suites, {
      quick: flagBool(args, 'quick'),
      ...(filter ? { filter } : {}),
      progress: (line) => process.stderr.write(`bench ${line}\n`),
    });
    if (json) {
      process.stdout.write(JSON.stringify(results) + '\n');
    } else {
      process.stdout.write(formatTable(results) + '\n');
      process.stdout.write(`\n${results.length} cases in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    }
    return 0;
  },
};
