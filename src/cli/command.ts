// The shape of one `payflow` subcommand. Each lives in its own module under
// src/cli/commands/ and is listed once in src/cli/main.ts.

export interface Command {
  name: string;
  /** one line for `payflow --help` */
  summary: string;
  /** full usage text for `payflow NAME --help` */
  usage: string;
  /** runs the command; resolves to the process exit code */
  run(argv: string[]): Promise<number>;
}
