// The package's own package.json, read at run time (not copied in at build time), so that
// `payflow --version` always names the installed version. Found by walking up from this
// module: src/util/ when run from source, dist/src/util/ when built.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PackageInfo {
  name: string;
  version: string;
}

let cached: PackageInfo | undefined;

/** The name and version in the nearest package.json named "payflow" above this module. */
export function packageInfo(): PackageInfo {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const json = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
      if (json.name === 'payflow' && typeof json.version === 'string') {
        cached = { name: json.name, version: json.version };
        return cached;
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the payflow package.json above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}
