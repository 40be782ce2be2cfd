#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds reel (Release) and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
cmake --preset release
cmake --build --preset release
ctest --preset release
