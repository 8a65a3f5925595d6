#!/usr/bin/env bash
# Benchmarks backup-agent (Native AOT, as shipped) against restic on the same inputs in the same run.
# Usage: tests/bench/run.sh [SIZE_MIB]   (default 1024)
set -euo pipefail
cd "$(dirname "$0")/../.."
need=()
command -v restic >/dev/null || need+=(restic)
[ -x /usr/bin/time ] || need+=(time)
command -v clang >/dev/null || need+=(clang)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
out=$(mktemp -d)
dotnet publish agent/BackupAgent -c Release -r linux-x64 -o "$out/agent" -p:PublishAot=true >/dev/null
restic version
dotnet run --project tests/bench -c Release -- "$out/agent/backup-agent" "${1:-1024}"
rm -rf "$out"
