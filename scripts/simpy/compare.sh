#!/usr/bin/env bash
# fleetsim against the SimPy model a planner would otherwise write: the same
# processor-sharing workload (scenarios/bench-ps.toml; scripts/simpy/ps_model.py),
# each run as a whole process, timed, then the speed ratio and the two mean download
# times.
#
#   scripts/simpy/compare.sh [CLIENTS] [REPEATS]     (default 100000 clients, 3 runs)
#
# Needs python3 with simpy (`pip install simpy`). The best of REPEATS runs of each
# is compared (on a shared machine the minimum is the least disturbed). Also checks
# the models agree on the same arrivals: ps_model.py --arrivals replays fleetsim's
# per-client start times, so the two mean download times must match to rounding.
# Exits 1 when the independent means differ by more than 2%.
set -euo pipefail
cd "$(dirname "$0")/../.."
CLIENTS=${1:-100000}
REPEATS=${2:-3}
python3 -c "import simpy" 2>/dev/null || { echo "compare.sh: pip install simpy" >&2; exit 2; }
cargo build --release --quiet
BIN=target/release/fleetsim
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

now() { python3 -c 'import time; print(time.perf_counter())'; }
best_fleetsim=""
best_simpy=""
for i in $(seq "$REPEATS"); do
  t0=$(date +%s.%N)
  "$BIN" run scenarios/bench-ps.toml --quiet --no-plots --set "fleet.clients=$CLIENTS" --out "$WORK/fleetsim" >/dev/null
  t1=$(date +%s.%N)
  python3 scripts/simpy/ps_model.py --clients "$CLIENTS" --seed "$i" > "$WORK/simpy.json"
  t2=$(date +%s.%N)
  best_fleetsim=$(python3 -c "import sys; a=float(sys.argv[2])-float(sys.argv[1]); b=sys.argv[3]; print(a if not b else min(a, float(b)))" "$t0" "$t1" "$best_fleetsim")
  best_simpy=$(python3 -c "import sys; a=float(sys.argv[2])-float(sys.argv[1]); b=sys.argv[3]; print(a if not b else min(a, float(b)))" "$t1" "$t2" "$best_simpy")
done
"$BIN" run scenarios/bench-ps.toml --quiet --set "fleet.clients=$CLIENTS" --per-client --out "$WORK/fleetsim-pc" >/dev/null
python3 scripts/simpy/ps_model.py --arrivals "$WORK/fleetsim-pc/clients.csv" > "$WORK/simpy-same.json"

python3 - "$CLIENTS" "$REPEATS" "$best_fleetsim" "$best_simpy" "$WORK/fleetsim/summary.json" "$WORK/simpy.json" "$WORK/simpy-same.json" <<'PY'
import json, sys
clients, repeats, tf, ts, fsum, sj, ssame = sys.argv[1:]
tf, ts = float(tf), float(ts)
f = json.load(open(fsum))
s = json.load(open(sj))
same = json.load(open(ssame))
fm, sm, smm = f["latency"]["download"]["mean"], s["download_mean_s"], same["download_mean_s"]
print(f"processor-sharing workload, {int(clients):,} clients, best of {repeats} whole-process runs")
print(f"  fleetsim  {tf:8.3f} s   mean download {fm:.3f} s   ({f['events']:,} events)")
print(f"  SimPy     {ts:8.3f} s   mean download {sm:.3f} s   (own random arrivals)")
print(f"  SimPy on fleetsim's arrivals:  mean download {smm:.4f} s (fleetsim {fm:.4f} s, "
      f"{100 * abs(smm - fm) / fm:.3f}% apart)")
print(f"  theory (M/D/1 processor sharing, rho = 0.5): 16.000 s")
diff = 100 * abs(sm - fm) / fm
print(f"ratio: fleetsim is {ts / tf:.1f}x faster; mean download times {diff:.2f}% apart")
sys.exit(0 if diff <= 2.0 else 1)
PY
