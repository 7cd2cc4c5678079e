#!/usr/bin/env bash
# Builds and runs the project's main job (the README's first command).
#
# Until the Beast adapter lands, the main job is the recovery demo: a scripted MCP session that
# expires under 64 concurrent callers, recovered with one reconnect.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh

mcpr_need_packages cmake make g++

build="${MCPR_BUILD_DIR:-build/check}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DMCP_RECOVERY_BUILD_TESTS=OFF -DMCP_RECOVERY_BUILD_BENCHMARKS=OFF -DMCP_RECOVERY_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$build" -j "$(mcpr_jobs)" --target recovery_demo
"$build/examples/recovery_demo" "$@"
