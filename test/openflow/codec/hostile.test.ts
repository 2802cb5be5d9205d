// Hostile input: decodeMessage must return an error value — never throw, never hang — for
// every truncation of every conformance message, for corrupted length fields, and for a
// million randomly mutated messages (OPENFLOW_FUZZ_ITERATIONS overrides the count).
import { describe, expect, test } from 'vitest';
import { OfpEncodeError, decodeMessage, encodeMessage, type OfpDecodeResult } from '../../../src/openflow/codec/index.js';
import { loadVectors } from './conformance-data.js';

const vectors = loadVectors();

function decodeSafely(bytes: Uint8Array): OfpDecodeResult {
  try {
    return decodeMessage(bytes);
  } catch (e) {
    throw new Error(`decodeMessage threw on ${Buffer.from(bytes).toString('hex')}: ${String(e)}`);
  }
}

function withLength(bytes: Uint8Array): Uint8Array {
  const copy = bytes.slice();
  if (copy.length >= 4) {
    copy[2] = (copy.length >> 8) & 0xff;
    copy[3] = copy.length & 0xff;
  }
  return copy;
}

describe('truncation', () => {
  test.each(vectors.map((v) => [v.name, v] as const))('%s: every prefix is an error value with an offset and a reason', (_n, v) => {
    for (let cut = 0; cut < v.bytes.length; cut++) {
      const prefix = v.bytes.subarray(0, cut);
      // As given (the header's length no longer matches) ...
      const asIs = decodeSafely(prefix);
      expect(asIs.ok, `prefix of ${cut} bytes`).toBe(false);
      // ... and with the header's length patched to match, so the body parsers see it.
      const patched = decodeSafely(withLength(prefix));
      if (!patched.ok) {
        expect(patched.error.offset).toBeGreaterThanOrEqual(0);
        expect(patched.error.offset).toBeLessThanOrEqual(cut);
        expect(patched.error.reason.length).toBeGreaterThan(0);
      } else {
        // Some prefixes are complete messages of their own (an echo with shorter data,
        // a flow-stats reply with fewer entries): then they must encode back identically.
        const again = encodeMessage(patched.message, { checkPrerequisites: false });
        expect(Buffer.from(again).equals(Buffer.from(withLength(prefix)))).toBe(true);
      }
    }
  });
});

describe('corrupt headers and lengths', () => {
  const flowMod = vectors.find((v) => v.name === '4-2-ofp_flow_mod')!;

  test('length field below 8', () => {
    const bytes = flowMod.bytes.slice();
    bytes[2] = 0;
    bytes[3] = 4;
    const r = decodeMessage(bytes);
    expect(r).toMatchObject({ ok: false, error: { offset: 2, type: 14 } });
  });

  test('wrong version is refused with OFPBRC_BAD_VERSION', () => {
    const bytes = flowMod.bytes.slice();
    bytes[0] = 0x01;
    const r = decodeMessage(bytes);
    expect(r).toMatchObject({ ok: false, error: { ofpError: { type: 1, code: 0 } } });
  });

  test('unknown message type is refused with OFPBRC_BAD_TYPE', () => {
    const r = decodeMessage(Uint8Array.from([4, 99, 0, 8, 0, 0, 0, 1]));
    expect(r).toMatchObject({ ok: false, error: { type: 99, ofpError: { type: 1, code: 1 } } });
  });

  test('unknown multipart type is refused with OFPBRC_BAD_MULTIPART', () => {
    const r = decodeMessage(Uint8Array.from([4, 18, 0, 16, 0, 0, 0, 1, 0, 77, 0, 0, 0, 0, 0, 0]));
    expect(r).toMatchObject({ ok: false, error: { offset: 8, ofpError: { type: 1, code: 2 } } });
  });

  test('a nested length pointing past the end (the match of a flow-mod)', () => {
    const bytes = flowMod.bytes.slice();
    bytes[0x32] = 0xff; // match length high byte
    const r = decodeMessage(bytes);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.reason).toMatch(/match length/);
  });

  test('a zero action length cannot loop forever', () => {
    const bytes = flowMod.bytes.slice();
    // first action of the first instruction: type at 0x48, length at 0x4a
    bytes[0x4a] = 0;
    bytes[0x4b] = 0;
    const r = decodeMessage(bytes);
    expect(r).toMatchObject({ ok: false });
    if (!r.ok) expect(r.error.reason).toMatch(/action length 0/);
  });

  test('an input that is not a Uint8Array', () => {
    expect(decodeMessage('hello' as unknown as Uint8Array).ok).toBe(false);
  });

  test('an empty buffer', () => {
    expect(decodeMessage(new Uint8Array(0))).toMatchObject({ ok: false, error: { offset: 0 } });
  });
});

/** xorshift32: deterministic, so a failure names a reproducible iteration. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const FUZZ_ITERATIONS = Number(process.env.OPENFLOW_FUZZ_ITERATIONS ?? 1_000_000);

describe('fuzz', () => {
  test(`${FUZZ_ITERATIONS} mutated conformance messages: no exception escapes, nothing hangs`, () => {
    const rand = prng(0x5eed);
    let ok = 0;
    let errors = 0;
    const started = Date.now();
    for (let i = 0; i < FUZZ_ITERATIONS; i++) {
      const base = vectors[rand() % vectors.length]!.bytes;
      let bytes = base.slice();
      const mutations = 1 + (rand() % 4);
      for (let m = 0; m < mutations; m++) {
        const op = rand() % 8;
        const at = bytes.length ? rand() % bytes.length : 0;
        if (op <= 2 && bytes.length) bytes[at] = rand() & 0xff; // random byte
        else if (op === 3 && bytes.length) bytes[at] = rand() & 1 ? 0 : 0xff; // extreme byte
        else if (op === 4) bytes = bytes.slice(0, at); // truncate
        else if (op === 5) {
          // duplicate a slice (grows TLV lists, misaligns what follows)
          const len = 1 + (rand() % 16);
          const grown = new Uint8Array(bytes.length + len);
          grown.set(bytes.subarray(0, at));
          grown.set(bytes.subarray(at, at + len), at);
          grown.set(bytes.subarray(at), at + Math.min(len, bytes.length - at));
          bytes = grown.subarray(0, bytes.length + Math.min(len, bytes.length - at));
        } else if (op === 6 && bytes.length >= 2) {
          // a 16-bit field (most lengths are) set to a small or huge value
          const v = rand() & 1 ? rand() & 0x1f : 0xffff - (rand() & 0xff);
          bytes[at & ~1] = v >> 8;
          if ((at & ~1) + 1 < bytes.length) bytes[(at & ~1) + 1] = v & 0xff;
        } else if (bytes.length) bytes[at] ^= 1 << (rand() & 7); // bit flip
      }
      // Mostly keep the header's length consistent so the mutation reaches the body parsers.
      if (rand() % 8 !== 0) bytes = withLength(bytes);
      let result: OfpDecodeResult;
      try {
        result = decodeMessage(bytes);
      } catch (e) {
        throw new Error(`iteration ${i}: decodeMessage threw on ${Buffer.from(bytes).toString('hex')}: ${String(e)}`);
      }
      if (result.ok) ok++;
      else {
        errors++;
        if (typeof result.error.reason !== 'string' || !Number.isInteger(result.error.offset)) {
          throw new Error(`iteration ${i}: malformed error value ${JSON.stringify(result.error)}`);
        }
      }
    }
    const seconds = (Date.now() - started) / 1000;
    // Reported for the record (run time is not asserted: timing belongs in bench/).
    console.log(`fuzz: ${FUZZ_ITERATIONS} messages in ${seconds.toFixed(1)} s (${ok} decoded, ${errors} error values)`);
    expect(ok + errors).toBe(FUZZ_ITERATIONS);
    expect(errors).toBeGreaterThan(0);
  });
});

describe('decoder and encoder agree on mutated input', () => {
  test('whatever decodes either re-encodes to bytes that decode to the same message, or is refused with OfpEncodeError', () => {
    const rand = prng(0xc0ffee);
    let reencoded = 0;
    let identical = 0;
    let refused = 0;
    for (let i = 0; i < 30_000; i++) {
      const bytes = vectors[rand() % vectors.length]!.bytes.slice();
      const mutations = 1 + (rand() % 3);
      for (let m = 0; m < mutations; m++) bytes[rand() % bytes.length] = rand() & 0xff;
      const first = decodeMessage(withLength(bytes));
      if (!first.ok) continue;
      let encoded: Uint8Array;
      try {
        encoded = encodeMessage(first.message, { checkPrerequisites: false });
      } catch (e) {
        // Values the spec does not allow (ip_dscp 200, a mask on tcp_dst, a 16-byte port
        // name) decode as they are, and the encoder refuses to produce them.
        if (!(e instanceof OfpEncodeError)) throw e;
        refused++;
        continue;
      }
      reencoded++;
      if (Buffer.from(encoded).equals(Buffer.from(withLength(bytes)))) identical++;
      const second = decodeMessage(encoded);
      if (!second.ok) throw new Error(`iteration ${i}: re-encoded bytes do not decode: ${second.error.reason}`);
      expect(second.message).toEqual(first.message);
    }
    console.log(`agreement: ${reencoded} re-encoded (${identical} byte-identical), ${refused} refused`);
    expect(reencoded).toBeGreaterThan(0);
  });
});
