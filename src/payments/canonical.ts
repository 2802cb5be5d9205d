// Canonical serialisation of the JSON values PayFlow signs or hashes (quotes, receipts,
// transfers, ledger entries): object keys sorted by UTF-16 code unit, no whitespace,
// bigints as decimal strings, and no floats, NaN or undefined — a value that would not
// survive a JSON round trip unchanged is refused rather than silently altered. The same
// object always gives the same bytes, so a signature made by one party verifies for
// another that re-serialises the parsed message (the idea of RFC 8785, restricted to
// integers so that no number formatting rules are needed).

export type CanonicalValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | readonly CanonicalValue[]
  | { readonly [key: string]: CanonicalValue | undefined };

export class CanonicalError extends Error {
  override name = 'CanonicalError';
}

export function canonicalJson(value: CanonicalValue): string {
  return write(value, '$');
}

function write(value: CanonicalValue | undefined, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return JSON.stringify(value.toString(10));
    case 'number':
      if (!Number.isSafeInteger(value)) throw new CanonicalError(`${path}: only safe integers can be signed, got ${value}`);
      return String(value);
    case 'undefined':
      throw new CanonicalError(`${path}: undefined cannot be serialised`);
    default:
      break;
  }
  if (Array.isArray(value)) {
    return `[${value.map((v, i) => write(v as CanonicalValue, `${path}[${i}]`)).join(',')}]`;
  }
  const obj = value as { readonly [key: string]: CanonicalValue | undefined };
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${write(obj[k], `${path}.${k}`)}`).join(',')}}`;
}
