# Shared by tools/*.sh (sourced, not run): the project's venv at .venv, filled only when needed.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
APT_UPDATED=0

log() { printf '==> %s\n' "$*" >&2; }

is_root() { [ "$(id -u)" = 0 ]; }

# apt_install PKG...: install Debian packages; only as root on a machine with apt-get.
apt_install() {
    if ! is_root || ! command -v apt-get >/dev/null 2>&1; then
        log "cannot install $* here (needs root and apt-get); install them yourself"
        return 1
    fi
    if [ "$APT_UPDATED" = 0 ]; then
        log "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
        APT_UPDATED=1
    fi
    log "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" </dev/null
}

# ensure_venv PIP_ARGS...: create .venv (Python >= 3.11) and `pip install PIP_ARGS` into it,
# unless the same install already ran against the same pyproject files (a stamp in .venv).
ensure_venv() {
    local python="${PYTHON:-python3}"
    if [ ! -x "$PY" ]; then
        if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            log "$python is missing or older than 3.11; set PYTHON=/path/to/python3.11"
            return 1
        fi
        log "creating $VENV"
        if ! "$python" -m venv "$VENV" >/dev/null 2>&1; then
            # Debian ships ensurepip separately
            rm -rf "$VENV"
            apt_install python3-venv
            "$python" -m venv "$VENV"
        fi
    fi
    local stamp="$VENV/.delfin-like-installed" want
    want="$({ printf '%s\n' "$@"; cat "$ROOT/pyproject.toml" "$ROOT/drivers/pyproject.toml"; } \
        | sha256sum | cut -d' ' -f1)"
    if [ -f "$stamp" ] && grep -qx "$want" "$stamp" && _venv_points_here; then
        return 0
    fi
    log "pip install $* (into .venv)"
    (cd "$ROOT" && "$PY" -m pip install --quiet --disable-pip-version-check "$@" </dev/null)
    _venv_points_here
    echo "$want" >>"$stamp"
}

# True when .venv imports this checkout's delfin_like and drivers (not another clone's).
_venv_points_here() {
    "$PY" - "$ROOT" <<'PY' 2>/dev/null
import os, sys
import delfin_like, delfin_like_drivers
root = os.path.realpath(sys.argv[1])
ok = all(os.path.realpath(m.__file__).startswith(root + os.sep) for m in (delfin_like, delfin_like_drivers))
sys.exit(0 if ok else 1)
PY
}
