#!/usr/bin/env bash
# Builds the release binaries of backup-agent: Native AOT, one file each, for linux-x64 and linux-arm64
# (Graviton), cross-compiled from an x64 Debian machine.
# Usage: agent/build.sh [OUTDIR]   (default artifacts/agent) -> OUTDIR/<rid>/backup-agent (+ backup-agent.dbg,
# its symbols); intermediate files go to OUTDIR/.build.
# Any trim/AOT (or other build) warning fails the build.
set -euo pipefail
cd "$(dirname "$0")/.."
exec build/publish-aot.sh agent/BackupAgent backup-agent "${1:-artifacts/agent}"
