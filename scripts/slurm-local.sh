#!/usr/bin/env bash
# A throwaway single-node Slurm on this machine, to try `scripts/slurm-array.sh` (and
# for the test suite, `tests/it/slurm.rs`). Needs Debian's `slurm-wlm` and `munge`
# packages; no systemd, no /etc/slurm, no /etc/munge: its key, config, state, spool,
# logs and pid files all live in one folder it owns.
#
#   eval "$(scripts/slurm-local.sh start)"   # starts munged, slurmctld, slurmd; prints
#                                            # `export SLURM_CONF=...` on stdout
#   sinfo; sbatch ...; squeue                 # talk to it like to any Slurm
#   scripts/slurm-local.sh stop              # cancels its jobs, stops the daemons,
#                                            # removes the folder
#
# `start` is idempotent: if this folder's daemons already answer, it only prints the
# export line. Otherwise it stops whatever of them is left and starts afresh (state
# and spool wiped), then waits until `sinfo` shows the node idle.
#
# Environment:
#   FLEETSIM_SLURM_DIR   the folder (default ${TMPDIR:-/tmp}/fleetsim-slurm-$UID)
#   FLEETSIM_SLURM_PORT  slurmctld's port, slurmd's is the next one (default: the first
#                        free pair from 16817, so a system Slurm on 6817 is left alone)
#   KILL_WAIT            seconds between a cancelled job's SIGTERM and SIGKILL (30):
#                        a cancelled `fleetsim sweep` writes its finished runs then
#
# As root the daemons run as root and jobs as whoever submits them; as another user
# the daemons and the jobs run as that user (enough to submit your own jobs).
set -euo pipefail

DIR=${FLEETSIM_SLURM_DIR:-${TMPDIR:-/tmp}/fleetsim-slurm-$(id -u)}
CONF=$DIR/slurm.conf
SOCKET=$DIR/munge/munge.socket
KILL_WAIT=${KILL_WAIT:-30}
export SLURM_CONF=$CONF

log() { echo "slurm-local: $*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

# The pid in `file` if that process is alive and is `name` (not a reused pid).
live_pid() {
    local file=$1 name=$2 pid
    [ -r "$file" ] || return 1
    pid=$(tr -dc 0-9 <"$file")
    [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] || return 1
    case "$(cat "/proc/$pid/comm")" in "$name"*) echo "$pid" ;; *) return 1 ;; esac
}

# Sends TERM to the process in pid `file` (if it is `name`), waits up to 10 s, KILLs.
stop_pid() {
    local file=$1 name=$2 pid
    pid=$(live_pid "$file" "$name") || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
        [ -d "/proc/$pid" ] || return 0
        sleep 0.1
    done
    log "$name (pid $pid) ignored SIGTERM for 10 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
}

running() {
    live_pid "$DIR/munge/munged.pid" munged >/dev/null &&
        live_pid "$DIR/run/slurmctld.pid" slurmctld >/dev/null &&
        live_pid "$DIR/run/slurmd.pid" slurmd >/dev/null &&
        [ -r "$CONF" ] &&
        timeout 10 sinfo -h -N -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)'
}

# Whether something already listens on 127.0.0.1:`port`.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pick_port() {
    if [ -n "${FLEETSIM_SLURM_PORT:-}" ]; then
        echo "$FLEETSIM_SLURM_PORT"
        return
    fi
    local p
    for p in $(seq 16817 2 16917); do
        if ! port_busy "$p" && ! port_busy $((p + 1)); then
            echo "$p"
            return
        fi
    done
    die "no free port pair in 16817-16918 (set FLEETSIM_SLURM_PORT)"
}

stop() {
    # Cancel this cluster's jobs first: slurmstepd outlives slurmd, so a job left
    # running would keep going after the daemons are gone.
    if live_pid "$DIR/run/slurmctld.pid" slurmctld >/dev/null && [ -r "$CONF" ]; then
        local jobs
        jobs=$(timeout 10 squeue -h -o %A 2>/dev/null | sort -u || true)
        if [ -n "$jobs" ]; then
            # shellcheck disable=SC2086 # one id per word
            timeout 10 scancel $jobs 2>/dev/null || true
            for _ in $(seq $((KILL_WAIT * 10 + 100))); do
                [ -z "$(timeout 10 squeue -h -o %A 2>/dev/null || true)" ] && break
                sleep 0.1
            done
        fi
    fi
    # All three at once: each takes a second or two to wind down, none needs another.
    stop_pid "$DIR/run/slurmd.pid" slurmd &
    stop_pid "$DIR/run/slurmctld.pid" slurmctld &
    stop_pid "$DIR/munge/munged.pid" munged &
    wait
}

# What slurmd sees of this machine: "CPUs=2 Boards=1 ... RealMemory=24105".
hardware() {
    slurmd -C 2>/dev/null | sed -n 's/^NodeName=[^ ]* //p' | head -n 1
}

write_config() {
    local user host port hw
    user=$(id -un)
    host=$(hostname -s)
    port=$(pick_port)
    hw=$(hardware)
    [ -n "$hw" ] || die "slurmd -C could not describe this machine"
    mkdir -p "$DIR/state" "$DIR/spool" "$DIR/run" "$DIR/log"
    cat >"$CONF" <<EOF
# Written by scripts/slurm-local.sh: a single-node Slurm for local tests.
ClusterName=fleetsim-local
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCKET
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$DIR/plugstack.conf
# No cgroups and no systemd: processes are tracked through /proc, tasks not bound.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
# A small test cluster: look for startable jobs every second, so a dependent job
# starts about a second after its dependency ends (the defaults take 2-3 s).
SchedulerParameters=batch_sched_delay=0,sched_interval=1,sched_min_interval=0
MailProg=/bin/true
# A node that was down comes back by itself once slurmd registers.
ReturnToService=2
# scancel and time limits send SIGTERM, then SIGKILL after KillWait seconds.
KillWait=$KILL_WAIT
# Finished jobs stay visible to "scontrol show job" for 5 minutes.
MinJobAge=300
NodeName=$host NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    # Without this file Slurm would read /etc/slurm/plugstack.conf (SPANK plugins
    # configured for the system's Slurm, not this one).
    : >"$DIR/plugstack.conf"
    # Used only if a cgroup plugin gets loaded after all: no mounting, no systemd.
    cat >"$DIR/cgroup.conf" <<EOF
CgroupAutomount=no
EOF
}

start_munge() {
    mkdir -p "$DIR/munge"
    # munged needs every folder above its socket searchable by all.
    chmod 755 "$DIR" "$DIR/munge"
    [ -s "$DIR/munge/munge.key" ] || mungekey -c -k "$DIR/munge/munge.key" ||
        die "mungekey could not create $DIR/munge/munge.key"
    chmod 600 "$DIR/munge/munge.key"
    munged --key-file="$DIR/munge/munge.key" --socket="$SOCKET" \
        --pid-file="$DIR/munge/munged.pid" --seed-file="$DIR/munge/munged.seed" \
        --log-file="$DIR/munge/munged.log" ||
        die "munged did not start; see $DIR/munge/munged.log"
    munge -n -S "$SOCKET" | unmunge -S "$SOCKET" >/dev/null ||
        die "munge does not answer on $SOCKET"
}

show_logs() {
    local f
    for f in "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log"; do
        [ -r "$f" ] && { log "--- last lines of $f"; tail -n 25 "$f" >&2; }
    done
    return 0
}

start() {
    if running; then
        log "already running in $DIR"
        echo "export SLURM_CONF=$CONF"
        return
    fi
    for tool in munged mungekey munge slurmctld slurmd sinfo; do
        command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] ||
            die "$tool not found (Debian: apt-get install slurm-wlm munge)"
    done
    export PATH=$PATH:/usr/sbin
    stop
    rm -rf "$DIR/state" "$DIR/spool" "$DIR/run" "$DIR/log"
    mkdir -p "$DIR"
    write_config
    start_munge
    slurmctld -f "$CONF" || { show_logs; die "slurmctld did not start"; }
    slurmd -f "$CONF" || { show_logs; die "slurmd did not start"; }
    local state=""
    for _ in $(seq 300); do
        state=$(timeout 10 sinfo -h -N -o %t 2>/dev/null | head -n 1 || true)
        case "$state" in
        idle | mix | alloc)
            log "node $(hostname -s) is $state; SLURM_CONF=$CONF"
            echo "export SLURM_CONF=$CONF"
            return
            ;;
        esac
        sleep 0.2
    done
    show_logs
    die "the node did not become idle in 60 s (last state: '${state:-no answer}')"
}

case "${1:-start}" in
start) start ;;
stop)
    stop
    rm -rf "$DIR"
    log "stopped; $DIR removed"
    ;;
status)
    if running; then
        sinfo -N
    else
        log "not running ($DIR)"
        exit 1
    fi
    ;;
*)
    echo "usage: $0 [start|stop|status]" >&2
    exit 2
    ;;
esac
