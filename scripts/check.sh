#!/usr/bin/env bash
# Builds and runs the project's main job (the README's first command): mcp-recovery-check.
# Without arguments it checks the built-in flaky test server (every server family's lost-session
# answer, plus a burst of concurrent callers); pass a URL to check a server of your own:
#   bash scripts/check.sh http://127.0.0.1:3000/mcp
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh

mcpr_need_packages cmake make g++ libboost-dev libssl-dev

build="${MCPR_BUILD_DIR:-build/check}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DMCP_RECOVERY_BUILD_TESTS=OFF -DMCP_RECOVERY_BUILD_BENCHMARKS=OFF -DMCP_RECOVERY_BUILD_EXAMPLES=OFF \
  -DMCP_RECOVERY_BUILD_TOOLS=ON >/dev/null
cmake --build "$build" -j "$(mcpr_jobs)" --target mcp-recovery-check
"$build/adapters/beast/mcp-recovery-check" "$@"
