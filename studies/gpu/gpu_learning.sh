#!/usr/bin/env bash
# Learning runs of studies/mpc_learning/learning_mpc_bptt.py on a lent GPU until a deadline:
# every task in TASKS side by side (TASK or TASK:JOBS; JOBS seeds at a time), all processes sharing the GPU through MPS
# where the image has it. Partial runs keep their CSVs; rerunning the command resumes them.
# Usage (repo root): OUT=/some/dir TASKS="mpc cartpole" CONFIG=config/config.yaml \
#     [SETS="horizon=30"] bash studies/gpu/gpu_learning.sh [seconds in all, default 540]
set -u
OUT=${OUT:-/tmp/gpu_learning}
DEADLINE=$((SECONDS + ${1:-540}))
WORK=${WORK:-/tmp/gpu_work}
DEVICE=${DEVICE:-cuda}  # cpu: a dry run of the plumbing here
TASKS=${TASKS:-mpc}
CONFIG=${CONFIG:-config/config.yaml}
JOBS=${JOBS:-5}
SEEDS=${SEEDS:-}  # run seeds 0..SEEDS-1 (default: the task's)
SETS=${SETS:-}  # config overrides for every run, e.g. SETS="horizon=30 population=500"
SET_ARGS=()
for item in $SETS; do SET_ARGS+=(--set "$item"); done
mkdir -p "$OUT" "$WORK"
source "$(dirname "$0")/gpu_env.sh"

MPS=0
if [ "$DEVICE" = cuda ] && command -v nvidia-cuda-mps-control >/dev/null \
    && nvidia-cuda-mps-control -d 2>/dev/null; then
    if timeout 30 $PY -c "import torch; torch.ones(1, device='cuda').sum().item()"; then
        MPS=1
    else
        echo quit | nvidia-cuda-mps-control
    fi
fi
echo "MPS: $MPS; tasks: $TASKS; config: $CONFIG; $JOBS seeds each"
LEARN=$((DEADLINE - SECONDS - 25))
for entry in $TASKS; do
    task=${entry%%:*}
    jobs=$JOBS
    [ "$entry" != "$task" ] && jobs=${entry#*:}
    [ "$LEARN" -gt 30 ] && timeout --kill-after=5 "$LEARN" $PY studies/mpc_learning/learning_mpc_bptt.py \
        --task "$task" --config "$CONFIG" --jobs "$jobs" ${SEEDS:+--seeds "$SEEDS"} --threads 1 --device "$DEVICE" \
        ${SET_ARGS[@]+"${SET_ARGS[@]}"} \
        --out "$WORK/learning" >"$OUT/learning_$task.jsonl" 2>"$WORK/learning_$task.err" &
done
wait
pkill -f "methods train.*--out $WORK/learning" || true
sleep 2
for entry in $TASKS; do  # the runs' stderr, whole (a crash's traceback), and its tail
    task=${entry%%:*}
    grep -v Warn "$WORK/learning_$task.err" >"$OUT/learning_$task.err"
    tail -4 "$OUT/learning_$task.err"
done
for f in "$WORK"/learning/*/*/s*/returns.csv; do echo "$f"; cat "$f"; done
tar czf "$OUT/learning.tar.gz" -C "$WORK" --exclude='*.pt' learning
[ "$MPS" = 1 ] && echo quit | nvidia-cuda-mps-control
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv
