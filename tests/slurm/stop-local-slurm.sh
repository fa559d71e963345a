#!/usr/bin/env bash
# Stop the daemons that start-local-slurm.sh started and wait until they are gone
# (slurmdbd, and MariaDB and munged if that script started them).
state=${1:-/tmp/mbrl-spectrum-slurm}
pkill -x slurmd 2>/dev/null
pkill -x slurmctld 2>/dev/null
pkill -x slurmdbd 2>/dev/null
if [ -e "$state/started-mariadbd" ]; then
  pkill -x mariadbd 2>/dev/null
  for _ in $(seq 60); do pgrep -x mariadbd >/dev/null || break; sleep 0.5; done
  rm -f "$state/started-mariadbd"
fi
if [ -e "$state/started-munged" ]; then
  pkill -x munged 2>/dev/null
  for _ in $(seq 60); do pgrep -x munged >/dev/null || break; sleep 0.5; done
  rm -f "$state/started-munged"
fi
for _ in $(seq 30); do
  pgrep -x slurmd >/dev/null || pgrep -x slurmctld >/dev/null || pgrep -x slurmdbd >/dev/null \
    || exit 0
  sleep 0.5
done
pkill -9 -x slurmd 2>/dev/null
pkill -9 -x slurmctld 2>/dev/null
pkill -9 -x slurmdbd 2>/dev/null
exit 0
