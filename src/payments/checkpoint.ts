// The journal's checkpoint: the head entry's sequence number and hash, signed with the
// ledger's authority key (the key its genesis entry names) and written to a file beside,
// not inside, the database, after every commit. A hash chain shows that no entry was
// changed; it cannot show that none was cut off the end (truncate the last entries and
// fix the balances, and what is left is a valid chain). The checkpoint can: the journal
// must still hold the entry it names, with the same hash. It is a lower bound (a crash
// between a commit and the write leaves it one commit behind, which is fine); an entry
// it names that is gone or different means the journal was cut or rewritten.
//
// File: JSON { "ledgerId", "seq", "head", "at", "signature" }; the signature (Ed25519,
// domain "payflow/checkpoint/v1\n") covers the canonical JSON of the other four fields.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { canonicalJson } from './canonical.js';
import { verifySignature, type SigningKey } from './keys.js';

/** The checkpoint's file name, beside the ledger's payflow.db in the data directory. */
export const LEDGER_CHECKPOINT_FILE = 'ledger-checkpoint.json';

export interface Checkpoint {
  ledgerId: string;
  seq: number;
  head: string;
  at: number;
  signature: string;
}

function message(c: Omit<Checkpoint, 'signature'>): string {
  return canonicalJson({ ledgerId: c.ledgerId, seq: c.seq, head: c.head, at: c.at });
}

/** Signs and writes a checkpoint (write to a temporary file, then rename: never half a file). */
export function writeCheckpoint(path: string, key: SigningKey, c: Omit<Checkpoint, 'signature'>): Checkpoint {
  const signed: Checkpoint = { ...c, signature: key.sign('checkpoint', message(c)) };
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(signed) + '\n', { mode: 0o644 });
  renameSync(tmp, path);
  return signed;
}

/** The checkpoint in `path` if it is there, well-formed and signed by `authority`; else why not. */
export function readCheckpoint(path: string, authority: string, ledgerId: string): { ok: true; checkpoint: Checkpoint } | { ok: false; reason: string } {
  if (!existsSync(path)) return { ok: false, reason: `there is no checkpoint file ${path}, so a truncated journal cannot be told apart (a ledger made before checkpoints existed gets one with 'payflow ledger checkpoint --init')` };
  let c: Checkpoint;
  try {
    c = JSON.parse(readFileSync(path, 'utf8')) as Checkpoint;
  } catch {
    return { ok: false, reason: `the checkpoint file ${path} is not JSON` };
  }
  if (!c || typeof c !== 'object' || typeof c.ledgerId !== 'string' || !Number.isSafeInteger(c.seq) || c.seq < 1 || typeof c.head !== 'string' || !Number.isSafeInteger(c.at) || typeof c.signature !== 'string') {
    return { ok: false, reason: `the checkpoint file ${path} is malformed` };
  }
  if (c.ledgerId !== ledgerId) return { ok: false, reason: `the checkpoint file ${path} is for ledger ${c.ledgerId}, not ${ledgerId}` };
  if (!verifySignature('checkpoint', message(c), c.signature, authority)) return { ok: false, reason: `the checkpoint file ${path} is not signed by the ledger's authority key` };
  return { ok: true, checkpoint: c };
}
