#!/usr/bin/env bash
# Regenerates results/branch-peers/, the README's peer content example: forty branch
# offices (scenarios/branch-peers.toml) whose users ask for the upgrade spread over
# the week (a/), then all at once (b/: every machine asks when it is first on),
# compared side by side, with the HTML report.
#
#   scripts/branch-peers-example.sh
#
# Outputs are deterministic (same seed, same bytes) except summary.json's `run`
# object (wall time, memory).
set -euo pipefail
cd "$(dirname "$0")/.."

out=results/branch-peers
mkdir -p results
cargo build --release --quiet
bin=target/release/fleetsim
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" run scenarios/branch-peers.toml --quiet --out "$tmp/spread"
"$bin" run scenarios/branch-peers.toml --quiet --out "$tmp/at-once" \
    --set deployment.user_start=0s --set client.policy_poll=0s
"$bin" compare "$tmp/spread" "$tmp/at-once" --out "$out" > "$tmp/compare.txt"
mv "$tmp/compare.txt" "$out/compare.txt"
"$bin" report "$out"

echo "wrote $out (table: $out/compare.txt, report: $out/report.html)"
