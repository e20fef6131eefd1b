#!/usr/bin/env bash
# Regenerates results/worked-example/, the README's worked example: the same 20,000
# clients upgraded with pre-cache (scenarios/precache.toml) and on demand
# (scenarios/on-demand.toml), compared side by side, with the HTML report.
#
#   scripts/worked-example.sh
#
# Outputs are deterministic (same seed, same bytes) except summary.json's `run`
# object (wall time, memory), so a regeneration only changes those lines unless the
# model changed.
set -euo pipefail
cd "$(dirname "$0")/.."

out=results/worked-example
mkdir -p results
cargo build --release --quiet
bin=target/release/fleetsim

"$bin" compare scenarios/precache.toml scenarios/on-demand.toml --out "$out" > "$out.table.txt.tmp"
mv "$out.table.txt.tmp" "$out/compare.txt"
"$bin" report "$out"

echo "wrote $out (table: $out/compare.txt, report: $out/report.html)"
