#!/usr/bin/env bash
# Benchmarks backup-agent (Native AOT, as shipped) against restic on the same inputs in the same run.
# Usage: tests/bench/run.sh [SIZE_MIB] [--case stdin|concurrent|nightly|check|prune]... [--scale N] [--nights N] [--updates PCT]
#                          [--rounds N] [--more] [--files N]
#   SIZE_MIB (default 1024): each generated input of the stdin, concurrent and check cases.
#   --case: run only the named cases (repeatable); without it every case runs.
#   --scale, --nights, --updates, --rounds: the nightly case's pgbench scale (default 20), number of backups
#   (default 7), share of pgbench_accounts rows updated each night (default 0.5 percent) and rounds (default 3,
#   each with its own chunker polynomial); --more adds exploratory variants (plain SQL dumps,
#   our `backup --stdin` at --compression max: slow).
#   --files: the prune case's number of small files (default 200000, one data blob each).
set -euo pipefail
cd "$(dirname "$0")/../.."
nightly=1
if [[ " $* " == *" --case "* && " $* " != *" --case nightly "* ]]; then nightly=0; fi
need=()
command -v restic >/dev/null || need+=(restic)
[ -x /usr/bin/time ] || need+=(time)
command -v clang >/dev/null || need+=(clang)
[ $nightly -eq 0 ] || [ -x /usr/lib/postgresql/15/bin/pg_dump ] || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
dotnet publish agent/BackupAgent -c Release -r linux-x64 -o "$out/agent" -p:PublishAot=true >/dev/null
restic version
dotnet run --project tests/bench -c Release -- "$out/agent/backup-agent" "$@"
