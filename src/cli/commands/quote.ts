// `payflow quote`: asks the controller for a signed quote (the preorder:
// availability and price, no payment).
import { flagBool, parseArgs } from '../args.js';
import type { Command } from '../command.js';
import { ApiClient } from '../../api/client.js';
import { apiUrl, FLOW_FLAGS, FLOW_USAGE, quoteRequest, quoteText } from './client-args.js';

const usage = ['usage: payflow quote --src IP --dst IP --rate RATE --duration TIME [--class ID] [--api URL] [--json]', '', ...FLOW_USAGE, '  --json           print the quote as JSON'].join('\n');

export const quoteCommand: Command = {
  name: 'quote',
  usage,
  async run(argv) {
    const args = parseArgs(argv, { values: FLOW_FLAGS, switches: ['json'] });
    const q = await new ApiClient(apiUrl(args)).quote(quoteRequest(args));
    process.stdout.write((flagBool(args, 'json') ? JSON.stringify(q) : quoteText(q)) + '\n');
    return 0;
  },
};
