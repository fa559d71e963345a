#!/usr/bin/env bash
# Start a one-node SLURM cluster on this machine (munge, slurmctld, slurmd; no systemd, no
# accounting database), for tests/workflow/test_slurm.py and for trying the SLURM profile.
#
#   tests/slurm/start-local-slurm.sh [STATE_DIR]      (default /tmp/mbrl-spectrum-slurm)
#   tests/slurm/stop-local-slurm.sh [STATE_DIR]
#
# The config goes to /etc/slurm/slurm.conf, where every client (sbatch, and srun inside a
# job) finds it; an existing config that this script did not write is never replaced.
# Needs root and Debian's `slurm-wlm` and `munge` packages. Without slurmdbd there is no
# `sacct`, so the Snakemake SLURM plugin must poll with `--slurm-status-command squeue`;
# MinJobAge keeps finished jobs visible to squeue long enough for that.
# Exit status: 0 running, 3 a prerequisite is missing (the message says which), 1 failed.
set -euo pipefail
state=${1:-/tmp/mbrl-spectrum-slurm}
for cmd in slurmctld slurmd munged sbatch squeue sinfo; do
  command -v "$cmd" >/dev/null || { echo "missing $cmd: apt-get install slurm-wlm munge" >&2; exit 3; }
done
[ "$(id -u)" -eq 0 ] || { echo "needs root (slurmd starts jobs as their user)" >&2; exit 3; }
mkdir -p "$state/ctld" "$state/slurmd" "$state/log"
conf=/etc/slurm/slurm.conf
marker="# written by mbrl-spectrum tests/slurm/start-local-slurm.sh"
if [ -e "$conf" ] && ! grep -qF "$marker" "$conf"; then
  echo "$conf exists and was not written by this script: not touching it" >&2
  exit 3
fi
mkdir -p /etc/slurm

# munge: one key shared by the daemons and the clients
if ! pgrep -x munged >/dev/null; then
  if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  fi
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge
  chmod 400 /etc/munge/munge.key
  runuser -u munge -- munged
  touch "$state/started-munged"  # stop-local-slurm.sh stops it again
fi

node=$(slurmd -C | head -1)  # NodeName=<host> CPUs=... RealMemory=... as the hardware is
cat >"$conf" <<CONF
$marker
ClusterName=mbrlspectrum
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/slurmd
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MinJobAge=300
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
$node State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
# started detached from our stdout/stderr, so that a caller reading them is not held
pgrep -x slurmctld >/dev/null || slurmctld -c </dev/null >/dev/null 2>&1
pgrep -x slurmd >/dev/null || slurmd </dev/null >/dev/null 2>&1
for _ in $(seq 60); do
  if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
    echo "SLURM is up: partition main, config $conf"
    exit 0
  fi
  sleep 1
done
echo "SLURM did not come up; see $state/log" >&2
sinfo >&2 || true
exit 1
