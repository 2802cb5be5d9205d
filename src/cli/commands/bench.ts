// `payflow bench [--quick] [--json] [--filter PREFIX]`: runs the benchmark suites in
// bench/ and prints a table (or, with --json, one JSON array on stdout: the contract
// `{ name, impl, batch, mpps }` from DESIGN.md, with extra fields).
import { formatTable, runSuites } from '../../../bench/harness.js';
import { suites } from '../../../bench/suites.js';
import { flagBool, flagString, parseArgs } from '../args.js';
import type { Command } from '../command.js';

export const benchCommand: Command = {
  name: 'bench',
  summary: 'run the benchmarks (data plane, OpenFlow codec, payments, controller)',
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
