# Sourced by the device scripts (gpu_checks.sh, gpu_planner.sh, gpu_learning.sh) in the repo
# root: the packages the GPU image lacks (wheels carried in .whl/, .whl/pkgs put on the path; skipped
# with DEVICE=cpu, a dry run here), PYTHONPATH, PY, and a check that everything imports.
export PYTHONUNBUFFERED=1 MUJOCO_GL=disable
if [ -d .whl ] && [ "${DEVICE:-cuda}" != cpu ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD/.whl/pkgs
fi
export PYTHONPATH=$PWD:${PYTHONPATH:-}
PY=python3
nvidia-smi -L
$PY -c "import torch, gymnasium, mujoco, dm_control; print('torch', torch.__version__, torch.cuda.is_available() and torch.cuda.get_device_name())" || exit 1
