#!/usr/bin/env bash
# The CUDA-graph planner on a lent GPU (one device call of about 9 minutes, 16-core host):
#   1. tests/unit/test_planning.py on CUDA (the captured search equals the eager one);
#   2. ms/action, eager vs CUDA graph, same model and seeds (planning_precision.py --compare
#      graphs), default and paper (PETS) planners; mpc-cem vs the SAC actor on Hopper;
#   3. issue 4's learning run at PETS's planner: mpc-cem on InvertedPendulum, 5 seeds x 3k
#      steps side by side on the GPU (through MPS where the image has it), until the deadline.
# Usage (repo root): OUT=/some/dir bash studies/gpu/gpu_planner.sh [seconds in all, default 540]
# Packages missing on the GPU image travel in .whl/ (wheels; .whl/pkgs is put on the path).
set -u
OUT=${OUT:-/tmp/gpu_planner}
DEADLINE=$((SECONDS + ${1:-540}))
WORK=${WORK:-/tmp/gpu_work}
DEVICE=${DEVICE:-cuda}  # cpu: a dry run of the plumbing here
STEPS=${STEPS:-30}  # actions per timed episode
mkdir -p "$OUT" "$WORK"
source "$(dirname "$0")/gpu_env.sh"

echo "== 1. planner tests on CUDA"
timeout 120 $PY -m pytest -q -p no:cacheprovider tests/unit/test_planning.py 2>&1 \
    | tail -15 | tee "$OUT/test_planning_cuda.txt"

echo "== 2. ms/action, eager vs graph (GPU alone)"
{
    timeout 100 $PY studies/precision_bf16/planning_precision.py --compare graphs --device $DEVICE \
        --tier paper --envs gym-InvertedPendulum-v5 dmc-cartpole-swingup --episodes 2 \
        --max-steps $STEPS
    timeout 50 $PY studies/precision_bf16/planning_precision.py --compare graphs --device $DEVICE \
        --tier config --envs gym-InvertedPendulum-v5 --episodes 2 --max-steps $STEPS
    for tier in config paper; do
        timeout 40 $PY studies/mpc_learning/learning_mpc_bptt.py --task cost --device $DEVICE --repeats 40 \
            --config config/$tier.yaml
    done
} 2>"$WORK/timing.err" | grep '^{' | tee "$OUT/planner_graphs_cuda.jsonl"
tail -5 "$WORK/timing.err"

echo "== 3. mpc-cem InvertedPendulum, PETS planner, 5 seeds until the deadline"
OUT=$OUT WORK=$WORK DEVICE=$DEVICE TASKS=mpc CONFIG=config/paper.yaml \
    bash "$(dirname "$0")/gpu_learning.sh" $((DEADLINE - SECONDS))
