#!/usr/bin/env bash
# Counts instructions per call on the success path with callgrind (repeatable on a noisy machine):
# transport.send directly vs recovering_client::try_call. Usage: bench/instructions.sh BUILD_DIR
set -euo pipefail
build="${1:-build/bench}"
bin="$build/bench/mcp_recovery_bench_core"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
calls=200000
valgrind --tool=callgrind --callgrind-out-file="$out/cg" "$bin" --instructions "$calls" >/dev/null 2>&1
callgrind_annotate --inclusive=yes "$out/cg" 2>/dev/null > "$out/annotated"
direct=$(grep -m1 'instr_direct' "$out/annotated" | awk '{gsub(",","",$1); print $1}')
client=$(grep -m1 'instr_client' "$out/annotated" | awk '{gsub(",","",$1); print $1}')
awk -v d="$direct" -v c="$client" -v n="$calls" 'BEGIN {
  printf "| path | instructions per call |\n|---|---|\n";
  printf "| transport.send directly | %.1f |\n| recovering_client::try_call | %.1f |\n", d/n, c/n;
  printf "| extra | %.1f |\n", (c-d)/n }'
