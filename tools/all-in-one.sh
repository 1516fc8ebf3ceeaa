#!/usr/bin/env bash
# Install delfin-like into .venv (first run only) and start delfin-like-all-in-one:
# REST API on 127.0.0.1:8190, task manager and scheduler in the same process, SQLite and
# file locks under ~/.local/share/delfin-like. No external service. Arguments are passed
# on (e.g. --config-file FILE). Stop it with Ctrl-C.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_venv -e "$ROOT" -e "$ROOT/drivers"
exec "$VENV/bin/delfin-like-all-in-one" "$@"
