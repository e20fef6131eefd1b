#!/bin/bash
# A fleetsim sweep as a Slurm array job: task i of N runs `--shard i/N` of the
# sweep's runs, and a merge job that waits for the whole array joins the shares into
# the same folder a single `fleetsim sweep` would have written.
#
#   SCENARIO=scenarios/quickstart.toml \
#   VARY="--vary distribution_points.0.bandwidth=1Gbps..10Gbps:1Gbps --vary deployment.precache=false,true" \
#   REPLICATIONS=20 RESULTS=$PWD/results/capacity \
#   ./scripts/slurm-array.sh            # submits the array, then the merge
#
# Settings (environment; the #SBATCH lines below are the defaults):
#   FLEETSIM       the fleetsim binary, on every node (default: fleetsim on PATH)
#   SHARDS         number of array tasks, i.e. shares of the sweep (8)
#   CPUS, MEM      cores and memory per task (4, 8G); each task runs that many threads
#   TIME           time limit per task (04:00:00)
#   ALLOW_PARTIAL  1: merge whatever the tasks finished even when some were cancelled
#                  or hit their time limit (Slurm sends SIGTERM, the task writes its
#                  finished runs as a partial shard); the merged sweep says `partial`.
#                  Default: the merge runs only if every task succeeded.
#   WAIT           1: wait until the merge job has ended; exit 0 only if it succeeded
#
# Logs go to fleetsim-sweep-<array>_<task>.log and fleetsim-merge-<job>.log in the
# folder you submit from. To try it on this machine, see scripts/slurm-local.sh.
#SBATCH --job-name=fleetsim-sweep
#SBATCH --array=1-8
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G
#SBATCH --time=04:00:00
#SBATCH --output=fleetsim-sweep-%A_%a.log
set -euo pipefail

FLEETSIM=${FLEETSIM:-fleetsim}
SCENARIO=${SCENARIO:-scenarios/quickstart.toml}
VARY=${VARY:---vary distribution_points.0.bandwidth=1Gbps..10Gbps:1Gbps}
REPLICATIONS=${REPLICATIONS:-10}
RESULTS=${RESULTS:-$PWD/results/slurm-sweep}
export FLEETSIM SCENARIO VARY REPLICATIONS RESULTS

if [ -z "${SLURM_ARRAY_TASK_ID:-}" ]; then
    # Run by hand: submit the array, and the merge to run once every task ended.
    # Options given here override the #SBATCH lines.
    opts=()
    [ -n "${SHARDS:-}" ] && opts+=("--array=1-$SHARDS")
    [ -n "${CPUS:-}" ] && opts+=("--cpus-per-task=$CPUS")
    [ -n "${MEM:-}" ] && opts+=("--mem=$MEM")
    [ -n "${TIME:-}" ] && opts+=("--time=$TIME")
    after=afterok
    allow=
    if [ "${ALLOW_PARTIAL:-0}" = 1 ]; then
        after=afterany
        allow=--allow-partial
    fi
    mkdir -p "$RESULTS"
    array=$(sbatch --parsable --export=ALL "${opts[@]}" "$0")
    array=${array%%;*}
    echo "array job $array: the sweep's shares into $RESULTS/shard-*"
    merge=$(sbatch --parsable --export=ALL --dependency="$after:$array" \
        --kill-on-invalid-dep=yes --job-name=fleetsim-merge \
        --cpus-per-task="${CPUS:-4}" --mem="${MEM:-8G}" --output=fleetsim-merge-%j.log \
        --wrap "exec \"$FLEETSIM\" merge $allow \"$RESULTS\"/shard-* --out \"$RESULTS/sweep\" --quiet")
    merge=${merge%%;*}
    echo "merge job $merge: after job $array, the merged sweep into $RESULTS/sweep"
    if [ "${WAIT:-0}" = 1 ]; then
        # Poll rather than `sbatch --wait`, which would hold the submission open.
        while :; do
            state=$(scontrol show job "$merge" 2>/dev/null |
                sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -n 1)
            case "$state" in
            COMPLETED) exit 0 ;;
            PENDING | CONFIGURING | RUNNING | COMPLETING | SUSPENDED | REQUEUED* | RESIZING) ;;
            *)
                echo "merge job $merge ended ${state:-out of sight}" >&2
                exit 1
                ;;
            esac
            sleep 1
        done
    fi
    exit 0
fi

count=${SLURM_ARRAY_TASK_COUNT:-${SLURM_ARRAY_TASK_MAX:-1}}
# `exec`: fleetsim itself is the job's process, so the SIGTERM of `scancel` or of the
# time limit reaches it directly and Slurm waits (KillWait) while it writes its
# finished runs, instead of killing it once a wrapping shell has died.
# shellcheck disable=SC2086 # VARY holds several --vary arguments on purpose
exec "$FLEETSIM" sweep "$SCENARIO" $VARY \
    --replications "$REPLICATIONS" \
    --shard "${SLURM_ARRAY_TASK_ID}/${count}" \
    --threads "${SLURM_CPUS_PER_TASK:-1}" \
    --out "$RESULTS/shard-${SLURM_ARRAY_TASK_ID}" \
    --quiet
