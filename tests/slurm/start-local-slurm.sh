#!/usr/bin/env bash
# Start a one-node SLURM cluster on this machine (munge, slurmctld, slurmd, and accounting
# through slurmdbd and a local MariaDB where those are installed; no systemd), for the SLURM
# test in tests/workflow/test_smoke_dag.py and for trying the SLURM profile.
#
#   tests/slurm/start-local-slurm.sh [STATE_DIR]      (default /tmp/mbrl-spectrum-slurm)
#   tests/slurm/stop-local-slurm.sh [STATE_DIR]
#
# The configs go to /etc/slurm/, where every client (sbatch, sacct, and srun inside a job)
# finds them; an existing config that this script did not write is never replaced.
# Needs root and Debian's `slurm-wlm` and `munge` packages. With `slurmdbd` and
# `mariadb-server` installed too (and MBRL_SLURM_ACCOUNTING not 0) the cluster keeps
# accounting as most real clusters do: `sacct` works, the Snakemake SLURM plugin needs no
# extra option, and jobs run under the account `default` (the SLURM profile's). Without
# them there is no `sacct`, so the plugin must poll with `--slurm-status-command squeue`;
# MinJobAge keeps finished jobs visible to squeue long enough for that.
# Prints "accounting: slurmdbd" or "accounting: none" on its last line.
# Exit status: 0 running, 3 a prerequisite is missing (the message says which), 1 failed.
# The PIDs of the daemons it starts go to STATE_DIR/started.pids; stop-local-slurm.sh stops
# exactly those (a daemon that already runs is used, never recorded, never stopped).
set -euo pipefail
state=${1:-/tmp/mbrl-spectrum-slurm}
# shellcheck source=tests/slurm/daemon-pids.sh
. "$(dirname "${BASH_SOURCE[0]}")/daemon-pids.sh"
for cmd in slurmctld slurmd munged sbatch squeue sinfo; do
  command -v "$cmd" >/dev/null || { echo "missing $cmd: apt-get install slurm-wlm munge" >&2; exit 3; }
done
[ "$(id -u)" -eq 0 ] || { echo "needs root (slurmd starts jobs as their user)" >&2; exit 3; }
mkdir -p "$state/ctld" "$state/slurmd" "$state/log"
conf=/etc/slurm/slurm.conf
dbdconf=/etc/slurm/slurmdbd.conf
marker="# written by mbrl-spectrum tests/slurm/start-local-slurm.sh"
for file in "$conf" "$dbdconf"; do
  if [ -e "$file" ] && ! grep -qF "$marker" "$file"; then
    echo "$file exists and was not written by this script: not touching it" >&2
    exit 3
  fi
done
mkdir -p /etc/slurm
accounting=none
if [ "${MBRL_SLURM_ACCOUNTING:-1}" != 0 ] && command -v slurmdbd >/dev/null \
    && command -v mariadbd >/dev/null && command -v mariadb-install-db >/dev/null; then
  accounting=slurmdbd
fi

# munge: one key shared by the daemons and the clients
if ! pgrep -x munged >/dev/null; then
  if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  fi
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge
  chmod 400 /etc/munge/munge.key
  start_daemon "$state" munged /run/munge/munged.pid \
    runuser -u munge -- munged --pid-file=/run/munge/munged.pid
fi

node=$(slurmd -C | head -1)  # NodeName=<host> CPUs=... RealMemory=... as the hardware is
write_slurm_conf() {  # $1: the AccountingStorage lines
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
$1
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
$node State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
}

no_accounting() {  # $1: why; the cluster then runs without accounting (squeue for status)
  echo "accounting not available, running without it: $1" >&2
  stop_recorded "$state" slurmdbd  # ours only
  accounting=none
}

# accounting: MariaDB (its root account, reached over the local socket by root) and slurmdbd
if [ "$accounting" = slurmdbd ] && ! pgrep -x mariadbd >/dev/null; then
  mkdir -p /run/mysqld "$state/mysql"
  chown mysql:mysql /run/mysqld "$state/mysql"
  if [ ! -d "$state/mysql/mysql" ]; then
    mariadb-install-db --user=mysql --datadir="$state/mysql" \
      --auth-root-authentication-method=socket >"$state/log/mariadb-install.log" 2>&1 || true
  fi
  mariadbd --user=mysql --datadir="$state/mysql" --socket=/run/mysqld/mysqld.sock \
    --skip-networking --log-error="$state/log/mariadb.log" </dev/null >/dev/null 2>&1 &
  record_pid "$state" mariadbd $!  # runs in the foreground: $! is mariadbd itself
fi
if [ "$accounting" = slurmdbd ]; then
  for _ in $(seq 60); do
    mariadb -e "select 1" >/dev/null 2>&1 && break
    sleep 1
  done
  mariadb -e "select 1" >/dev/null 2>&1 || no_accounting "MariaDB did not come up (see $state/log)"
fi
if [ "$accounting" = slurmdbd ]; then
  cat >"$dbdconf" <<CONF
$marker
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=root
StorageLoc=mbrl_spectrum_slurm_acct_db
LogFile=$state/log/slurmdbd.log
PidFile=$state/slurmdbd.pid
CONF
  chmod 600 "$dbdconf"
  start_daemon "$state" slurmdbd "$state/slurmdbd.pid" slurmdbd || true
  write_slurm_conf "AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost"  # sacctmgr reads slurm.conf
  for _ in $(seq 60); do
    sacctmgr -n list cluster >/dev/null 2>&1 && break
    sleep 1
  done
  sacctmgr -n list cluster >/dev/null 2>&1 || no_accounting "slurmdbd did not come up (see $state/log)"
fi
if [ "$accounting" = slurmdbd ]; then
  # the cluster, and the account that profiles/slurm names, with root in it
  # (listings read whole first: grep -q in a pipe would end sacctmgr with SIGPIPE)
  clusters=$(sacctmgr -n -P list cluster format=cluster)
  grep -qw mbrlspectrum <<<"$clusters" || sacctmgr -i add cluster mbrlspectrum >/dev/null \
    || no_accounting "sacctmgr could not add the cluster"
fi
if [ "$accounting" = slurmdbd ]; then
  accounts=$(sacctmgr -n -P list account format=account)
  grep -qw default <<<"$accounts" || sacctmgr -i add account default cluster=mbrlspectrum \
    >/dev/null || no_accounting "sacctmgr could not add the account"
fi
if [ "$accounting" = slurmdbd ]; then
  users=$(sacctmgr -n -P -s list user root format=account)
  grep -qw default <<<"$users" || sacctmgr -i add user root account=default \
    cluster=mbrlspectrum >/dev/null || no_accounting "sacctmgr could not add root to the account"
fi
[ "$accounting" = slurmdbd ] || write_slurm_conf "AccountingStorageType=accounting_storage/none"
# started detached from our stdout/stderr, so that a caller reading them is not held
start_daemon "$state" slurmctld "$state/slurmctld.pid" slurmctld -c
start_daemon "$state" slurmd "$state/slurmd.pid" slurmd
for _ in $(seq 60); do
  if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
    echo "SLURM is up: partition main, config $conf"
    echo "accounting: $accounting"
    exit 0
  fi
  sleep 1
done
echo "SLURM did not come up; see $state/log" >&2
sinfo >&2 || true
exit 1
