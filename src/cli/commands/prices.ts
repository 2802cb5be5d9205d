// `payflow prices [--api URL] [--json]`: the controller's live menu, one row per service
// class: its price now (currency units per Mbit/s of reserved rate per second, as the
// pricing agent set it from the load; money printed as src/cli/money.ts says), the floor and
// ceiling it moves between, and the load it is priced at against the class's target.
// Reads GET /v1/menu (classes and the ledger) and GET /v1/prices (the load).
import { flagBool, parseArgs, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { ApiClient, type MenuView } from '../../api/client.js';
import type { ClassPrice } from '../../pricing/agent.js';
import { formatRate } from '../../util/units.js';
import { formatPrice } from '../money.js';
import { table } from '../table.js';
import { apiUrl } from './client-args.js';

const usage = [
  'usage: payflow prices [--api URL] [--json]',
  '',
  '  --api URL        the controller (default http://127.0.0.1:8080)',
  '  --json           print { "menu": GET /v1/menu, "prices": GET /v1/prices } as the API sent them',
  '',
  'Prices are currency units per Mbit/s of reserved rate per second, with 6 decimals;',
  'a quote (`payflow quote`) turns one into the exact amount in the ledger\'s base units.',
].join('\n');

type PricesView = Awaited<ReturnType<ApiClient['prices']>>;

export function pricesText(menu: MenuView, prices: PricesView): string {
  const load = new Map<string, ClassPrice>(prices.prices.map((p) => [p.classId, p]));
  const rows = menu.classes.map((c) => {
    const p = load.get(c.id);
    return [
      c.id,
      c.name,
      String(c.dscp),
      formatPrice(p?.price ?? c.price),
      formatPrice(c.basePrice),
      formatPrice(c.maxPrice),
      p ? formatRate(p.demandBps) : '-',
      p ? formatRate(p.targetBps) : '-',
      p?.resource ?? '-',
      c.bestEffort ? 'best effort' : '',
    ];
  });
  const l = menu.ledger;
  return [
    `prices at ${new Date(prices.at).toISOString()}, in currency units per Mbit/s per second`,
    `(${l.kind} ledger, ${l.baseUnitsPerCurrencyUnit} base units per currency unit, paid to ${l.payTo})`,
    table(['class', 'name', 'dscp', 'price', 'base', 'max', 'load', 'target', 'priced on', ''], rows, { right: [2, 3, 4, 5, 6, 7] }),
  ].join('\n');
}

export const pricesCommand: Command = {
  name: 'prices',
  usage,
  async run(argv) {
    const args = parseArgs(argv, { values: ['api'], switches: ['json'] });
    if (args.positionals.length) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
    const api = new ApiClient(apiUrl(args));
    const [menu, prices] = await Promise.all([api.menu(), api.prices()]);
    process.stdout.write((flagBool(args, 'json') ? JSON.stringify({ menu, prices }) : pricesText(menu, prices)) + '\n');
    return 0;
  },
};
