#!/usr/bin/env bash
# Issue 8's side-by-side peer benchmarks on a lent GPU: CEM planning (ours vs mbrl-lib, CUDA
# graphs on, then off), SAC updates (ours vs Stable-Baselines3) and ensemble training (ours
# vs mbrl-lib), every workload on CUDA on both sides, one benchmark at a time, until a
# deadline. The GPU image has torch but neither suite's other packages, and no venvs: each
# side's wheels travel in .whl/<side>/ (ours: gymnasium, mujoco and their needs; mbrl; sb3:
# stable-baselines3 alone, on top of ours'), are installed into /tmp/site-<side>, and
# /tmp/py-<side> runs the image's python with that site (ours: and the repo) first on the path.
# BENCHES picks benchmarks (default all four); each one's JSON lines go to $OUT/NAME.jsonl,
# the stderr of all of them to $OUT/errors.txt.
# Usage (repo root): OUT=/some/dir bash benchmarks/gpu_peers.sh [seconds in all, default 500]
# DEVICE=cpu PY=.venv/bin/python WHL=dir: a dry run of the plumbing without a GPU (WHL: the
# same wheels for that python).
set -u
OUT=${OUT:-/tmp/gpu_peers}
DEADLINE=$((SECONDS + ${1:-500}))
DEVICE=${DEVICE:-cuda}
PY=${PY:-python3}
WHL=${WHL:-.whl}  # wheels for the image's python (3.12); a dry run needs its own
REPO=$PWD
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 MUJOCO_GL=disable PYTHONWARNINGS=ignore
[ "$DEVICE" = cuda ] && nvidia-smi -L

install_side() {  # install_side NAME SIDES...: $WHL/SIDE/*.whl into /tmp/site-NAME
    local name=$1 site=/tmp/site-$1 path side wheels=()
    shift
    for side in "$@"; do wheels+=("$WHL/$side"/*.whl); done
    rm -rf "$site"
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$site" \
        "${wheels[@]}" || exit 1
    path=$site
    [ "$name" = ours ] && path=$site:$REPO
    printf '#!/bin/sh\nPYTHONPATH=%s exec %s "$@"\n' "$path" "$(command -v "$PY")" >/tmp/py-$name
    chmod +x /tmp/py-$name
}
install_side ours ours
install_side sb3 ours sb3
install_side mbrl mbrl
/tmp/py-ours -c "import torch, gymnasium, methods.mpc; print('ours: torch', torch.__version__, 'gymnasium', gymnasium.__version__)" || exit 1
/tmp/py-mbrl -c "import mbrl, gymnasium; print('mbrl', mbrl.__version__, 'gymnasium', gymnasium.__version__)" || exit 1
/tmp/py-sb3 -c "import stable_baselines3, mujoco; print('sb3', stable_baselines3.__version__, 'mujoco', mujoco.__version__)" || exit 1

bench() {  # bench NAME SCRIPT PEER ARGS...: one driver run, if time is left
    local name=$1 script=$2 peer=$3 left
    shift 3
    left=$((DEADLINE - SECONDS - 5))
    case " ${BENCHES:-$name} " in *" $name "*) ;; *) return ;; esac
    if [ "$left" -lt 30 ]; then echo "$name: skipped, ${left}s left"; return; fi
    echo "$name: up to ${left}s"
    timeout --kill-after=5 "$left" /tmp/py-ours "benchmarks/peers/$script" --device "$DEVICE" \
        --peer-python "/tmp/py-$peer" --ours-python /tmp/py-ours "$@" \
        >"$OUT/$name.jsonl" 2>/tmp/$name.err
    echo "$name: exit $?"
    cut -c1-300 "$OUT/$name.jsonl"
    { echo "== $name"; cat /tmp/$name.err; } >>"$OUT/errors.txt"
    tail -3 /tmp/$name.err
}
bench cem_graphs cem_planning.py mbrl --actions 10 --repeats 3 ${CEM_ARGS:-}
bench sac_updates sac_updates.py sb3 --repeats 2 ${SAC_ARGS:-}
bench ensemble_train ensemble_train.py mbrl --repeats 2 ${ENSEMBLE_ARGS:-}
bench cem_eager cem_planning.py mbrl --actions 10 --repeats 1 --cuda-graphs off ${CEM_ARGS:-}
[ "$DEVICE" = cuda ] && nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv
exit 0
