#!/usr/bin/env bash
# Stop exactly the daemons that start-local-slurm.sh started (the PIDs it recorded in
# STATE_DIR/started.pids: slurmd, slurmctld, slurmdbd, and MariaDB and munged where it
# started them), the last started first, and wait until they are gone. Daemons of the same
# names that it did not start (the machine's own) are never signalled.
#
#   tests/slurm/stop-local-slurm.sh [STATE_DIR]      (default /tmp/mbrl-spectrum-slurm)
state=${1:-/tmp/mbrl-spectrum-slurm}
# shellcheck source=tests/slurm/daemon-pids.sh
. "$(dirname "${BASH_SOURCE[0]}")/daemon-pids.sh"
stop_recorded "$state"
rm -f "$state/started-mariadbd" "$state/started-munged"  # markers of the older script
exit 0
