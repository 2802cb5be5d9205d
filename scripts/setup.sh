#!/usr/bin/env bash
# One-step setup on a fresh machine: system packages (when root), npm dependencies
# (with better-sqlite3's native build), and the build of the wasm data plane and TypeScript.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-system.sh
npm ci --no-audit --no-fund
npm run build
echo "PayFlow is built: run 'npx payflow --help'"
