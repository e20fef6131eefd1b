#!/usr/bin/env bash
# Runs every cargo-fuzz target (fuzz/fuzz_targets/*.rs) for SECONDS each, one after
# the other, one libFuzzer worker at a time (the machine is shared: 2 cores).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      default: 60 seconds, every target
#   scripts/fuzz.sh 300 scenario ts_xml        five minutes each on two targets
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). It uses nightly-only compiler flags
# (sanitizers, coverage); on a stable toolchain they are unlocked with
# RUSTC_BOOTSTRAP=1, which this script sets.
#
# Each target's working corpus is fuzz/corpus/<target>/ (not committed: it grows).
# It starts from, read in place: the hand-written seeds in fuzz/seeds/<target>/, the
# saved crashes in tests/data/fuzz-regressions/<target>/, and for the readers the
# repository's own inputs (scenarios/, tests/data/scenarios/, tests/data/xml/) and
# the shared ConfigMgr exports (../shared/domain/ts-examples, or /work/shared/...)
# when present. Dictionaries in fuzz/dict/ teach the fuzzer TOML keys, XML elements
# and WQL words.
#
# A crash, panic, timeout (-timeout=5, 120 for counters: a hang) or out-of-memory
# (-rss_limit_mb=2048) leaves its input in fuzz/artifacts/<target>/. To keep it: minimise it with
#   RUSTC_BOOTSTRAP=1 cargo fuzz tmin <target> fuzz/artifacts/<target>/<file>
# and copy the result into tests/data/fuzz-regressions/<target>/, which
# `cargo test` replays (tests/it/fuzz_regressions.rs) with the same checks
# (fuzz/src/checks.rs).
#
# FUZZ_STACK_KB=256 scripts/fuzz.sh ... runs each check on a 256 KiB stack, so that
# recursion as deep as the input is long shows up with the short inputs libFuzzer
# tries (see fuzz/src/lib.rs).
#
# Prints, per target, libFuzzer's executions and the number of new artifacts; exits
# 1 when any target found something.
set -u
cd "$(dirname "$0")/.."
root=$(pwd)
secs=${1:-60}
shift || true
all="scenario units ts_xml ts_inline wql condition expand simulate counters"
targets=${*:-$all}
export RUSTC_BOOTSTRAP=1

shared="$root/../shared"
[ -d "$shared/domain" ] || shared=/work/shared

extra_dirs() {
    case "$1" in
    scenario) echo "scenarios tests/data/scenarios/good tests/data/scenarios/bad tests/data/scenarios/bad-needs-ts" ;;
    simulate) echo "scenarios tests/data/scenarios/good" ;;
    ts_xml) echo "tests/data/xml tests/data/xml/bad $shared/domain/ts-examples" ;;
    ts_inline) echo "tests/data/scenarios/good" ;;
    esac
}

dict_of() {
    case "$1" in
    scenario | ts_inline | simulate) echo "-dict=$root/fuzz/dict/toml.dict" ;;
    ts_xml) echo "-dict=$root/fuzz/dict/xml.dict" ;;
    wql | condition) echo "-dict=$root/fuzz/dict/wql.dict" ;;
    esac
}

max_len_of() {
    case "$1" in
    ts_xml) echo 65536 ;;
    scenario | ts_inline | simulate) echo 16384 ;;
    *) echo 4096 ;;
    esac
}

# Seconds one input may take before libFuzzer calls it a hang. `counters` builds a
# scenario of up to 70,002 items per input, about 10 s under the sanitizers (0.5 s in
# a release build), so its limit is longer; a real wrap loops forever either way.
timeout_of() {
    case "$1" in
    counters) echo 120 ;;
    *) echo 5 ;;
    esac
}

cargo fuzz build -O || exit 2

found=0
summary=""
for t in $targets; do
    corpus="$root/fuzz/corpus/$t"
    mkdir -p "$corpus" "fuzz/artifacts/$t"
    dirs="$corpus"
    for d in "fuzz/seeds/$t" "tests/data/fuzz-regressions/$t" $(extra_dirs "$t"); do
        case "$d" in /*) ;; *) d="$root/$d" ;; esac
        [ -d "$d" ] && dirs="$dirs $d"
    done
    before=$(find "fuzz/artifacts/$t" -type f | wc -l)
    log="fuzz/artifacts/$t.log"
    echo "== $t: ${secs}s"
    # shellcheck disable=SC2086
    cargo fuzz run -O "$t" $dirs -- \
        -max_total_time="$secs" -timeout="$(timeout_of "$t")" -rss_limit_mb=2048 \
        -max_len="$(max_len_of "$t")" -print_final_stats=1 \
        -artifact_prefix="$root/fuzz/artifacts/$t/" \
        $(dict_of "$t") >"$log" 2>&1
    rc=$?
    after=$(find "fuzz/artifacts/$t" -type f | wc -l)
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    new=$((after - before))
    [ "$rc" -ne 0 ] || [ "$new" -gt 0 ] && found=1
    line="$t: ${runs:-?} executions in ${secs}s, exit $rc, $new new artifact(s)"
    echo "$line"
    summary="$summary$line"$'\n'
done
echo "== summary"
printf '%s' "$summary"
exit "$found"
