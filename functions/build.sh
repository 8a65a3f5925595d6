#!/usr/bin/env bash
# Builds the Lambda functions' deployable: one Native AOT executable named bootstrap (the custom runtime
# provided.al2023 starts it; _HANDLER picks the function), for x86_64 and arm64 (Graviton) Lambda.
# Usage: functions/build.sh [OUTDIR] [RID...]   (default artifacts/functions, both RIDs)
#   -> OUTDIR/<rid>/bootstrap; zip that file alone for a Lambda deployment package.
# Any trim/AOT (or other build) warning fails the build.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-artifacts/functions}
[ $# -gt 0 ] && shift
exec build/publish-aot.sh functions/Backups.Functions bootstrap "$out" "$@"
