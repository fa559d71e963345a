# Sourced by start-local-slurm.sh and stop-local-slurm.sh: the PIDs of the daemons that
# start-local-slurm.sh started, one "NAME PID" line each in STATE_DIR/started.pids. Only
# those processes are ever signalled: never a daemon by its name, which on a machine that
# runs its own SLURM, MariaDB or munge would stop the machine's.

# is_running PID NAME: PID is alive (not a zombie) and still named NAME (after ours exited,
# its PID may belong to another process, which must not be touched)
is_running() {
  local stat comm
  [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -gt 1 ] || return 1
  read -r stat comm < <(ps -o stat=,comm= -p "$1" 2>/dev/null) || return 1
  [ "$comm" = "$2" ] && [ "${stat#Z}" = "$stat" ]
}

# record_pid STATE_DIR NAME PID
record_pid() {
  echo "$2 $3" >>"$1/started.pids"
}

# stop_pid PID NAME: SIGTERM, up to 30 s to exit, then SIGKILL (if it is still NAME)
stop_pid() {
  is_running "$1" "$2" || return 0
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 60); do
    is_running "$1" "$2" || return 0
    sleep 0.5
  done
  echo "$2 (pid $1) ignored SIGTERM for 30 s: killing it" >&2
  kill -KILL "$1" 2>/dev/null || return 0
  for _ in $(seq 10); do
    is_running "$1" "$2" || return 0
    sleep 0.5
  done
}

# stop_recorded STATE_DIR [NAME]: stop the recorded daemons (only those named NAME if
# given), the last started first, and drop their lines from the record
stop_recorded() {
  local file="$1/started.pids" only="${2:-}" name pid i
  local -a lines=() keep=()
  [ -s "$file" ] || return 0
  mapfile -t lines <"$file"
  for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
    read -r name pid <<<"${lines[i]}" || true
    if [ -n "$only" ] && [ "$name" != "$only" ]; then
      keep=("${lines[i]}" ${keep[@]+"${keep[@]}"})
      continue
    fi
    [ -n "${name:-}" ] && stop_pid "${pid:-}" "$name"
  done
  if [ ${#keep[@]} -gt 0 ]; then
    printf '%s\n' "${keep[@]}" >"$file"
  else
    rm -f "$file"
  fi
}

# start_daemon STATE_DIR NAME PID_FILE COMMAND...: run COMMAND (a daemon that forks and
# writes its PID to PID_FILE) unless a NAME already runs, and record the PID it writes
start_daemon() {
  local state=$1 name=$2 pidfile=$3 pid=""
  shift 3
  pgrep -x "$name" >/dev/null && return 0  # not ours: left alone, and never stopped
  rm -f "$pidfile"
  "$@" </dev/null >/dev/null 2>&1 || return 1
  for _ in $(seq 20); do
    [ -s "$pidfile" ] && break
    sleep 0.5
  done
  pid=$(head -1 "$pidfile" 2>/dev/null || true)
  if is_running "$pid" "$name"; then
    record_pid "$state" "$name" "$pid"
  else
    echo "$name was started but $pidfile names no running $name: stop it by hand" >&2
  fi
}
