#!/usr/bin/env bash
# Peer library 2: mbrl-lib (PyPI "mbrl" 0.2.0: MBPO and PETS) on Python 3.11.
#
# Creates (or reuses) the venv $PEER_VENVS/mbrl (default /work/peer-venvs/mbrl),
# installs the pins below, and runs check_mbrl.py, which prints one line
# "ok: mbrl <versions>". Idempotent: re-running only re-checks the pins.
# Set MBRL_CHECK_TRAIN=1 to also run a few steps of mbrl's pets/mbpo train loops.
#
# mbrl 0.2.0 declares hydra-core==1.0.3 and omegaconf<2.1, which cannot be imported
# on Python 3.11 (ValueError: mutable default ... OverrideDirname ... use
# default_factory). So mbrl is installed with --no-deps on top of hydra-core 1.3.2 /
# omegaconf 2.3.0, and every config that mbrl hands to hydra.utils.instantiate
# must carry `_recursive_: false` (see README.md and check_mbrl.py).
# Older pins and why (details in README.md):
#   gymnasium==0.26.3  mbrl 0.2.0 pins it; it offers Hopper-v4 (not v5)
#   mujoco==2.3.3      gymnasium 0.26.3's Hopper-v4 XML uses global coordinates,
#                      which mujoco >= 2.3.4 rejects; 2.2.x (gymnasium's own pin)
#                      has no Python 3.11 wheel
#   numpy==1.26.4      gymnasium 0.26.3's env checker uses np.bool8, removed in
#                      numpy 2 (AttributeError on the first env.step)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=venv.sh
source "$HERE/venv.sh" mbrl

# Everything mbrl 0.2.0's library code imports, pinned. Left out on purpose
# (declared by mbrl but not imported by mbrl.models/planning/algorithms/util):
# jupyter, pytest, tensorboard, sk-video (only mbrl.diagnostics.control_env).
cat > "$VENV/peer-requirements.txt" <<EOF
$TORCH_PIN
numpy==1.26.4
mujoco==2.3.3
gymnasium==0.26.3
hydra-core==1.3.2
omegaconf==2.3.0
antlr4-python3-runtime==4.9.3
termcolor==3.3.0
imageio==2.38.1
matplotlib==3.11.2
tqdm==4.70.1
packaging==26.4
PyYAML==6.0.4
# transitive dependencies, pinned to the versions resolved on 2026-11-25 (see README)
absl-py==2.5.1
cloudpickle==3.1.3
contourpy==1.3.3
cycler==0.12.1
filelock==4.3.1
fonttools==4.68.0
fsspec==2026.9.0
glfw==2.11.0
gymnasium-notices==0.0.1
Jinja2==3.1.6
kiwisolver==1.5.1
MarkupSafe==3.0.4
mpmath==1.3.0
networkx==3.6.1
pillow==13.0.0
PyOpenGL==3.1.10
pyparsing==3.3.3
python-dateutil==4.0.0
setuptools==84.2.1
sympy==1.14.0
typing_extensions==4.16.0
tzdata==2026.6
EOF
# --only-binary: mujoco 2.2.x/2.3.x sdists need a MuJoCo binary to build; fail
# loudly instead of trying.
pip_install --only-binary=mujoco -r "$VENV/peer-requirements.txt"
# --no-deps: mbrl 0.2.0's own pins (hydra-core==1.0.3, omegaconf<2.1) do not
# import on Python 3.11.
pip_install --no-deps mbrl==0.2.0
"$VENV/bin/python" -m pip --disable-pip-version-check freeze > "$VENV/peer-freeze.txt" 2>/dev/null

echo "setup time: $((SECONDS - start)) s (venv: $VENV)"
args=()
if [[ "${MBRL_CHECK_TRAIN:-0}" == 1 ]]; then args+=(--train); fi
# PYTHONWARNINGS: gymnasium 0.26.3 warns about np.bool8 on every step.
(cd "${TMPDIR:-/tmp}" && PYTHONWARNINGS=ignore "$VENV/bin/python" "$HERE/check_mbrl.py" "${args[@]}")
