// The shape of one `payflow` subcommand. Each lives in its own module under
// src/cli/commands/ and is listed once, with its one-line summary, in src/cli/command-table.ts.

export interface Command {
  name: string;
  /** full usage text for `payflow NAME --help` */
  usage: string;
  /** runs the command; resolves to the process exit code */
  run(argv: string[]): Promise<number>;
}
