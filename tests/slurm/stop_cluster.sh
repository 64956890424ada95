#!/usr/bin/env bash
# Stop the single-node Slurm test cluster started by start_cluster.sh.
# Only the processes named in the daemons' own pid files are signalled.
# Usage: stop_cluster.sh [--keep-munge]   (munge may be shared with other uses)
set -euo pipefail

KEEP_MUNGE=0
[[ "${1:-}" == --keep-munge ]] && KEEP_MUNGE=1

log() { printf '[stop_cluster] %s\n' "$*"; }
[[ $EUID -eq 0 ]] || { echo "[stop_cluster] ERROR: must run as root" >&2; exit 1; }

daemons=(slurmd:/run/slurmd.pid slurmctld:/run/slurmctld.pid)
((KEEP_MUNGE)) || daemons+=(munge:/run/munge/munged.pid)

if [[ "$(cat /proc/1/comm 2>/dev/null)" == systemd ]]; then
    for d in "${daemons[@]}"; do
        log "stopping ${d%%:*} via systemd"
        systemctl stop "${d%%:*}" || true
    done
    exit 0
fi

for d in "${daemons[@]}"; do
    name="${d%%:*}"; pidfile="${d#*:}"
    [[ $name == munge ]] && name=munged
    pid="$(cat "$pidfile" 2>/dev/null || true)"
    # Check the pid still belongs to the daemon: pid files can be stale.
    if [[ -z "$pid" || "$(cat "/proc/$pid/comm" 2>/dev/null)" != "$name"* ]]; then
        log "$name not running"
        continue
    fi
    log "stopping $name (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name did not exit after 10s, sending SIGKILL"
        kill -9 "$pid" 2>/dev/null || true
    fi
done
log "done"
