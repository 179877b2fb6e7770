#!/usr/bin/env bash
# The README's test command: set-up (scripts/setup.sh), then the whole suite (`npm test`).
# Extra arguments go to vitest, e.g. `bash scripts/test.sh test/unit`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm test -- "$@"
