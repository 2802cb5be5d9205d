// The table of `payflow` subcommands: each one's name and one-line summary, and how to load
// it. A command's module (and everything it imports: the controller, the ledger, the switch's
// FFI library) is loaded only when that command runs, so `payflow switch` does not pay for the
// controller's modules at start, and `payflow --help` loads none of them.
import type { Command } from './command.js';

export interface CommandEntry {
  name: string;
  /** one line for `payflow --help` */
  summary: string;
  /** imports the command's module */
  load(): Promise<Command>;
}

export const commandTable: readonly CommandEntry[] = [
  { name: 'bench', summary: 'run the benchmarks (data plane, OpenFlow codec, payments, controller)', load: async () => (await import('./commands/bench.js')).benchCommand },
  { name: 'ledger', summary: 'the embedded local ledger: keygen, faucet, balance, pay, verify, checkpoint, serve', load: async () => (await import('./commands/ledger.js')).ledgerCommand },
  { name: 'replay', summary: 'run a capture (pcap or pcapng) through the data plane; per-flow counts and packet rate', load: async () => (await import('./commands/replay.js')).replayCommand },
  { name: 'controller', summary: 'run the PayFlow controller (OpenFlow, reservations API, pricing, ledger)', load: async () => (await import('./commands/controller.js')).controllerCommand },
  { name: 'egress-agent', summary: 'apply the controller\'s egress queues to this host\'s switch ports', load: async () => (await import('./commands/egress-agent.js')).egressAgentCommand },
  { name: 'prices', summary: 'the live menu: each service class with its price now and its load', load: async () => (await import('./commands/prices.js')).pricesCommand },
  { name: 'reserve', summary: 'buy a bandwidth reservation: quote, pay, reserve', load: async () => (await import('./commands/reserve.js')).reserveCommand },
  { name: 'quote', summary: 'ask the controller for the price and availability of a reservation', load: async () => (await import('./commands/quote.js')).quoteCommand },
  { name: 'reservations', summary: 'list, show or cancel reservations', load: async () => (await import('./commands/reservations.js')).reservationsCommand },
  { name: 'switch', summary: 'run an OpenFlow 1.3 software switch on Linux interfaces', load: async () => (await import('./commands/switch.js')).switchCommand },
  { name: 'token', summary: 'create an operator token for the HTTP API', load: async () => (await import('./commands/token.js')).tokenCommand },
];
