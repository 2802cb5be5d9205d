// `payflow token create --name NAME --scope admin|read [--data-dir DIR]`: makes an operator
// token for the controller's HTTP API (docs/security.md, "Operator tokens"). The token is
// printed once; the data directory's store keeps only its SHA-256 (api_tokens), which the
// controller compares in constant time. A running controller sees new tokens at once.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { flagBool, flagString, parseArgs, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { TOKEN_PREFIX, tokenHash } from '../../api/auth.js';
import { RequestStore } from '../../api/request-store.js';
import { Store } from '../../store/index.js';

const usage = [
  'usage: payflow token create --name NAME --scope admin|read [--data-dir DIR] [--json]',
  '',
  '  --name NAME      who holds it (written to the audit log with every action)',
  '  --scope SCOPE    admin: read, cancel and extend any reservation; read: read and list them',
  '  --data-dir DIR   the controller\'s data directory (default ./payflow-data)',
  '',
  'Prints the token once (send it as "Authorization: Bearer <token>"); only its SHA-256 is kept.',
].join('\n');

export const tokenCommand: Command = {
  name: 'token',
  usage,
  async run(argv) {
    const args = parseArgs(argv, { values: ['name', 'scope', 'data-dir'], switches: ['json'] });
    const [verb, ...rest] = args.positionals;
    if (verb !== 'create' || rest.length) throw new UsageError('usage: payflow token create --name NAME --scope admin|read');
    const name = flagString(args, 'name');
    const scope = flagString(args, 'scope');
    if (!name || !/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new UsageError('--name must be 1 to 64 of A-Z a-z 0-9 _ . -');
    if (scope !== 'admin' && scope !== 'read') throw new UsageError('--scope must be admin or read');
    const dir = resolve(flagString(args, 'data-dir') ?? './payflow-data');
    mkdirSync(dir, { recursive: true });
    const store = Store.open(join(dir, 'payflow.db'));
    try {
      const token = TOKEN_PREFIX + randomBytes(32).toString('hex');
      const sha256 = tokenHash(token);
      try {
        new RequestStore(store).addToken(sha256, name, scope, Date.now());
      } catch (err) {
        if (/UNIQUE/.test((err as Error).message)) throw new UsageError(`a token named ${name} exists already`);
        throw err;
      }
      process.stdout.write((flagBool(args, 'json') ? JSON.stringify({ name, scope, token, sha256 }) : `token ${name} (${scope}): ${token}\n  sha256 ${sha256} (for http.tokens in a config)`) + '\n');
      return 0;
    } finally {
      store.close();
    }
  },
};
