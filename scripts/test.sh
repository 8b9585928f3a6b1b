#!/usr/bin/env bash
# Set up everything (see setup.sh, PyTorch oracle included) and run the whole test suite.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${MULTIGRAD_SETUP_DONE:-0}" != "1" ]; then
    MULTIGRAD_SETUP_TORCH=1 bash scripts/setup.sh
fi
exec .venv/bin/python -m pytest tests "$@"
