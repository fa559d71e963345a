#!/usr/bin/env bash
# The GPU checks of one device session (about 9 minutes on one H100/H200 + 16 cores):
#   0. the CUDA-only tests: captured planner search and SAC update equal the eager ones;
#   1. speed.py (SAC update eager and as a CUDA graph) and the MPC-vs-SAC ms/action on
#      CUDA, with the GPU to themselves;
#   2. every method family of the smoke tier trains on CUDA and writes the full run contract;
#   3. determinism on CUDA: the same seed twice, byte-compared (sac, mbpo-k5, mpc-cem);
#   4. learning (issue 4) in the background, on the GPU: mpc-cem on InvertedPendulum
#      (3k steps, 5 seeds) and on dm_control cartpole swingup (20k steps, 5 seeds).
# Usage (repo root): OUT=/some/dir bash studies/gpu/gpu_checks.sh [seconds for learning]
# Packages missing on the GPU image travel in .whl/ (wheels; .whl/pkgs is put on the path).
set -u
OUT=${OUT:-/tmp/gpu_checks}
LEARN_SECONDS=${1:-400}
WORK=/tmp/gpu_work
mkdir -p "$OUT" "$WORK"
source "$(dirname "$0")/gpu_env.sh"

echo "== 0. the CUDA graphs replay the eager computations (planner search, SAC update)"
if $PY -c "import pytest" 2>/dev/null; then
    timeout 120 $PY -m pytest -q -p no:cacheprovider tests/unit/test_sac_agent.py \
        tests/unit/test_planning.py -k "cuda or captured" 2>&1 | tail -15 | tee "$OUT/graphs_cuda.txt"
else
    echo "pytest missing on this image: carry its wheel in .whl/" | tee "$OUT/graphs_cuda.txt"
fi

echo "== 1. speed on cuda (GPU alone)"
timeout 150 $PY benchmarks/speed.py --device cuda --repeats 3 | tee "$OUT/speed_cuda.jsonl"
timeout 90 $PY studies/mpc_learning/learning_mpc_bptt.py --task cost --device cuda --repeats 40 \
    | tee -a "$OUT/speed_cuda.jsonl"

echo "== 4. learning in the background (${LEARN_SECONDS}s)"
for task in mpc cartpole; do
    timeout "$LEARN_SECONDS" $PY studies/mpc_learning/learning_mpc_bptt.py --task $task --jobs 5 \
        --threads 1 --device cuda --out "$WORK/learning" >"$OUT/learning_$task.jsonl" \
        2>"$WORK/learning_$task.err" &
done

echo "== 2. every family on cuda (smoke tier budgets)"
for pair in sac:gym-Pendulum-v1 mbpo-k5:gym-Pendulum-v1 mbpo-k5-det:gym-Pendulum-v1 \
            dyna-h50:gym-Pendulum-v1 mpc-cem:gym-Pendulum-v1 mpc-oracle:gym-Pendulum-v1 \
            bptt-h5:gym-Pendulum-v1 mbpo-k5:dmc-cartpole-swingup; do
    v=${pair%%:*}; e=${pair#*:}
    if timeout 120 $PY -m methods train --variant "$v" --env "$e" --seed 0 --device cuda \
        --config config/smoke.yaml --out "$WORK/smoke/$v-$e/$v/$e/s0" >"$WORK/smoke_$v.log" 2>&1 \
        && $PY -m methods verify "$WORK/smoke/$v-$e" | grep -q "1 ok"; then
        echo "smoke $v $e: ok, device $(grep -o '"device": "[^"]*"' "$WORK/smoke/$v-$e/$v/$e/s0/meta.json")"
    else
        echo "smoke $v $e: FAILED"; tail -5 "$WORK/smoke_$v.log"
    fi
done | tee "$OUT/smoke_cuda.txt"

echo "== 3. determinism on cuda"
for v in sac mbpo-k5 mpc-cem; do
    for rep in a b; do
        timeout 120 $PY -m methods train --variant "$v" --env gym-Pendulum-v1 --seed 3 \
            --device cuda --config config/smoke.yaml --out "$WORK/det/$rep/$v" \
            >"$WORK/det_${v}_${rep}.log" 2>&1
    done
    if cmp -s "$WORK/det/a/$v/returns.csv" "$WORK/det/b/$v/returns.csv" \
        && cmp -s "$WORK/det/a/$v/metrics.csv" "$WORK/det/b/$v/metrics.csv"; then
        echo "determinism $v: identical returns.csv and metrics.csv"
    else
        echo "determinism $v: DIFFERENT"
        diff "$WORK/det/a/$v/metrics.csv" "$WORK/det/b/$v/metrics.csv" | head -6
    fi
done | tee "$OUT/determinism_cuda.txt"

wait
pkill -f "methods train" || true
cat "$WORK"/learning_*.err | grep -v Warn | tail -20
tar czf "$OUT/learning.tar.gz" -C "$WORK" --exclude='*.pt' learning
tar czf "$OUT/smoke_runs.tar.gz" -C "$WORK" --exclude='*.pt' smoke det
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv
