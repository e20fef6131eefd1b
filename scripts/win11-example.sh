#!/usr/bin/env bash
# Regenerates results/win11-example/, the README's Windows 11 worked example:
# scenarios/win11.toml (the fleet read from scenarios/inventory-example.csv) with the
# default 5,120 MB client cache, where the 6.2 GB Windows 11 package cannot be
# pre-cached, against the same scenario with an 8 GiB client cache, compared side by
# side, with the HTML report.
#
#   scripts/win11-example.sh
#
# Outputs are deterministic (same seed, same bytes) except summary.json's `run`
# object (wall time, memory).
set -euo pipefail
cd "$(dirname "$0")/.."

out=results/win11-example
cargo build --release --quiet
bin=target/release/fleetsim
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bin" run scenarios/win11.toml --per-client --set name=win11-default-cache --out "$work/default-cache" > "$work/default-cache.txt"
"$bin" run scenarios/win11.toml --per-client --set name=win11-cache-8gib --set client.cache_size=8GiB \
  --out "$work/cache-8gib" > "$work/cache-8gib.txt"
mkdir -p results
"$bin" compare "$work/default-cache" "$work/cache-8gib" --out "$out" > "$work/compare.txt"
# The terminal output of each run (readiness table, pre-cache shortfall) and the
# comparison table, without the temporary paths.
sed "s#$work/##g" "$work/default-cache.txt" > "$out/a/terminal.txt"
sed "s#$work/##g" "$work/cache-8gib.txt" > "$out/b/terminal.txt"
sed "s#$work/##g" "$work/compare.txt" > "$out/compare.txt"
"$bin" report "$out"

echo "wrote $out (table: $out/compare.txt, report: $out/report.html)"
