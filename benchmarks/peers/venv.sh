# Shared by setup_*.sh (sourced): create or reuse the venv $PEER_VENVS/$1 on Python 3.11,
# define pip_install, and install torch==2.13.0 FIRST (pip takes the CPU wheel from local
# disk here; an unpinned torch would pull a multi-GB CUDA build).
PEER_VENVS="${PEER_VENVS:-/work/peer-venvs}"
PYTHON="${PYTHON:-python3}"
VENV="$PEER_VENVS/$1"
TORCH_PIN="torch==2.13.0"
start=$SECONDS

pip_install() {
    # Hide the harmless "Location 'file:///opt/pypi...' is ignored" warnings of the
    # local mirror; pipefail keeps pip's exit status.
    "$VENV/bin/python" -m pip --disable-pip-version-check install -q "$@" 2>&1 \
        | { grep -v "is ignored: it is neither a file nor a directory" || true; }
}

mkdir -p "$PEER_VENVS"
if [[ -x "$VENV/bin/python" ]] && ! "$VENV/bin/python" -c \
    'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    echo "error: $VENV exists but is not Python 3.11; remove it and re-run" >&2
    exit 1
fi
if [[ ! -x "$VENV/bin/python" ]]; then
    "$PYTHON" -m venv "$VENV"
fi
pip_install "$TORCH_PIN"
