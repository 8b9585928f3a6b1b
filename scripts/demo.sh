#!/usr/bin/env bash
# Set up everything (see setup.sh) and run the demo: the autograd walkthrough with its graph
# picture, then an MLP and a CNN trained on the digits. Extra arguments go to `multigrad demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/multigrad demo "$@"
