#!/usr/bin/env bash
# Peer library 1: Stable-Baselines3 (SAC) with gymnasium[mujoco] (Hopper-v5).
#
# Creates (or reuses) the venv $PEER_VENVS/sb3 (default /work/peer-venvs/sb3),
# installs the pins below, and runs check_sb3.py, which prints one line
# "ok: sb3 <versions>". Idempotent: re-running only re-checks the pins.
#
# torch, gymnasium, mujoco and numpy are the versions of mbrl-spectrum's own
# environment (torch 2.13.0 CPU, gymnasium 1.4.0, mujoco 3.17.0, numpy 2.4.6),
# so the speed comparison runs on the same simulator and tensor library.
# torch==2.13.0 is installed FIRST: here pip takes the CPU wheel from local disk
# (/opt/wheels); an unpinned torch would pull a multi-GB CUDA build.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=venv.sh
source "$HERE/venv.sh" sb3

cat > "$VENV/peer-requirements.txt" <<EOF
$TORCH_PIN
stable-baselines3==2.9.2
gymnasium[mujoco]==1.4.0
mujoco==3.17.0
numpy==2.4.6
# transitive dependencies, pinned to the versions resolved on 2026-11-25 (see README)
absl-py==2.5.1
cloudpickle==3.1.3
etils==1.15.0
Farama-Notifications==0.0.6
filelock==4.3.1
fsspec==2026.9.0
glfw==2.11.0
imageio==2.38.1
Jinja2==3.1.6
MarkupSafe==3.0.4
mpmath==1.3.0
networkx==3.6.1
packaging==26.4
pillow==13.0.0
PyOpenGL==3.1.10
setuptools==84.2.1
sympy==1.14.0
typing_extensions==4.16.0
websockets==17.4
zipp==4.1.2
EOF
pip_install -r "$VENV/peer-requirements.txt"
"$VENV/bin/python" -m pip --disable-pip-version-check check
"$VENV/bin/python" -m pip --disable-pip-version-check freeze > "$VENV/peer-freeze.txt" 2>/dev/null

echo "setup time: $((SECONDS - start)) s (venv: $VENV)"
(cd "${TMPDIR:-/tmp}" && "$VENV/bin/python" "$HERE/check_sb3.py")
