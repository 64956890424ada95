#!/usr/bin/env bash
# The GPU figures of docs/performance.md in one call: bench/gpu.py (see its docstring) with the
# project's venv when there is one, else python3. Arguments pass through, e.g. --budget-s 480.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python3}"
[ -x "$root/.venv/bin/python" ] && [ -z "${PYTHON:-}" ] && python="$root/.venv/bin/python"
exec "$python" "$root/bench/gpu.py" "$@"
