#!/usr/bin/env bash
# A one-node SLURM cluster on loopback, for testing the pipeline against a real scheduler.
#
#   tests/slurm/single_node_cluster.sh install        # slurm-wlm + munge from Debian (root)
#   tests/slurm/single_node_cluster.sh start DIR      # writes slurm.conf, starts munged, slurmctld, slurmd
#   tests/slurm/single_node_cluster.sh stop DIR       # stops the daemons started from DIR
#
# Runs as root. The daemons keep state, logs and pid files under DIR. The configuration goes to
# /etc/slurm/slurm.conf, the one place every client finds it: the plugin's job-step executor
# clears all SLURM_* variables, SLURM_CONF included, before it calls srun inside a job. A
# slurm.conf there that this script did not write is never overwritten (start exits with 3).
#
# No accounting database (slurmdbd) is run: job status comes from squeue, which sees a finished job
# for MinJobAge seconds. The plugin uses squeue only when MinJobAge >= 3 x its first status delay,
# so MinJobAge is 600 s here (profiles/slurm sets status_command: squeue; see README).
set -euo pipefail

cmd=${1:?usage: $0 install|start DIR|stop DIR}

case "$cmd" in
install)
    if command -v slurmctld >/dev/null && command -v munged >/dev/null; then
        exit 0
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends slurm-wlm munge
    ;;
start)
    dir=$(realpath -m "${2:?start needs a state directory}")
    mkdir -p "$dir/spool" "$dir/state" "$dir/log"
    node=$(hostname -s)
    # The node's CPUs and memory as slurmd itself sees them (a mismatch drains the node).
    read -r cpus mem_mb < <(slurmd -C | awk '
        /NodeName/ { for (i = 1; i <= NF; i++) { split($i, kv, "=");
            if (kv[1] == "CPUs") c = kv[2]; if (kv[1] == "RealMemory") m = kv[2] } }
        END { print c, m }')
    conf=/etc/slurm/slurm.conf
    marker="# written by tests/slurm/single_node_cluster.sh"
    if [[ -e $conf ]] && ! grep -qxF "$marker" "$conf"; then
        echo "slurm: $conf exists and is not this test's: not starting a test cluster over it" >&2
        exit 3
    fi
    mkdir -p /etc/slurm
    cat > "$conf.tmp" <<CONF
$marker
ClusterName=pipelinetest
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
SlurmctldPort=16817
SlurmdPort=16818
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=600
SlurmdTimeout=60
MpiDefault=none
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
    mv "$conf.tmp" "$conf"
    if ! pgrep -x munged >/dev/null; then
        mkdir -p /run/munge && chown munge:munge /run/munge
        runuser -u munge -- munged
        cp /run/munge/munged.pid "$dir/munged.pid"  # ours to stop; a munged found running is not
    fi
    slurmctld
    slurmd
    # The node must report in before jobs can run.
    for _ in $(seq 60); do
        state=$(sinfo -h -n "$node" -o %T 2>/dev/null || true)
        case "$state" in idle | mixed | allocated) echo "slurm: node $node $state"; exit 0 ;; esac
        sleep 1
    done
    echo "slurm: node $node did not become idle (state: '${state:-none}'); logs in $dir/log" >&2
    tail -n 20 "$dir"/log/*.log >&2 || true
    exit 1
    ;;
stop)
    dir=$(realpath -m "${2:?stop needs the state directory}")
    for daemon in slurmd slurmctld munged; do
        pidfile="$dir/$daemon.pid"
        if [[ -s $pidfile ]]; then
            pid=$(cat "$pidfile")
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        fi
    done
    conf=/etc/slurm/slurm.conf
    if [[ -e $conf ]] && grep -qxF "# written by tests/slurm/single_node_cluster.sh" "$conf"; then
        rm -f "$conf"
    fi
    ;;
*)
    echo "unknown command '$cmd': expected install, start DIR or stop DIR" >&2
    exit 2
    ;;
esac
