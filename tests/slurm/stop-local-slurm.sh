#!/usr/bin/env bash
# Stop the daemons that start-local-slurm.sh started and wait until they are gone
# (munged is left running for others).
pkill -x slurmd 2>/dev/null
pkill -x slurmctld 2>/dev/null
for _ in $(seq 30); do
  pgrep -x slurmd >/dev/null || pgrep -x slurmctld >/dev/null || exit 0
  sleep 0.5
done
pkill -9 -x slurmd 2>/dev/null
pkill -9 -x slurmctld 2>/dev/null
exit 0
