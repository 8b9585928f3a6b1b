#!/usr/bin/env bash
# Set up a fresh machine for multigrad: system OpenCL driver (when run as root), a virtual
# environment in .venv, and the project with its test and OpenCL extras. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    if ! dpkg -s pocl-opencl-icd ocl-icd-libopencl1 graphviz >/dev/null 2>&1; then
        echo "setup: installing the PoCL OpenCL driver and Graphviz with apt-get"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pocl-opencl-icd ocl-icd-libopencl1 graphviz >/dev/null
    fi
else
    echo "setup: not root, so no system packages are installed; OpenCL needs pocl-opencl-icd (or a vendor driver) and pictures need graphviz"
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating the virtual environment .venv"
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# The checkout, never the unrelated 'multigrad' project on the package index.
.venv/bin/python -m pip install -q -e ".[test,opencl]"
if [ "${MULTIGRAD_SETUP_TORCH:-0}" = "1" ]; then
    # PyTorch is the test oracle; pin the CPU build so pip never fetches a CUDA build.
    .venv/bin/python -m pip install -q "torch==2.13.0"
fi
