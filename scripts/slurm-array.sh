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
# Change the number of shares with `sbatch --array=1-N` or the #SBATCH line below;
# each task uses the cores Slurm gives it (--cpus-per-task).
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
    # Run by hand: submit the array, and the merge to run once every task succeeded.
    mkdir -p "$RESULTS"
    array=$(sbatch --parsable --export=ALL "$0")
    sbatch --parsable --export=ALL --dependency="afterok:${array%%;*}" \
        --job-name=fleetsim-merge --cpus-per-task=4 --output=fleetsim-merge-%j.log \
        --wrap "\"$FLEETSIM\" merge \"$RESULTS\"/shard-* --out \"$RESULTS/sweep\""
    echo "submitted sweep array $array; the merged sweep will be in $RESULTS/sweep"
    exit 0
fi

count=${SLURM_ARRAY_TASK_COUNT:-${SLURM_ARRAY_TASK_MAX:-1}}
# shellcheck disable=SC2086 # VARY holds several --vary arguments on purpose
"$FLEETSIM" sweep "$SCENARIO" $VARY \
    --replications "$REPLICATIONS" \
    --shard "${SLURM_ARRAY_TASK_ID}/${count}" \
    --threads "${SLURM_CPUS_PER_TASK:-1}" \
    --out "$RESULTS/shard-${SLURM_ARRAY_TASK_ID}" \
    --quiet
