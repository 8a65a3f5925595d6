#!/usr/bin/env bash
# Benchmarks backup-agent (Native AOT, as shipped) against restic on the same inputs in the same run.
# Usage: tests/bench/run.sh [SIZE_MIB] [--case stdin|concurrent|nightly|check|prune|tree|restore|s3|index|startup|pitr]...
#                          [--scale N] [--nights N] [--updates PCT] [--rounds N] [--more] [--files N] [--tree-files N]
#                          [--tree-mib N] [--connections N] [--blobs N] [--wal-mib N]
#   SIZE_MIB (default 1024): each generated input of the stdin, concurrent and check cases, and the file that the
#   restore and s3 cases dump.
#   --case: run only the named cases (repeatable); without it every case runs.
#   --scale, --nights, --updates, --rounds: the nightly case's pgbench scale (default 20), number of backups
#   (default 7), share of pgbench_accounts rows updated each night (default 0.5 percent) and rounds (default 3,
#   each with its own chunker polynomial); --more adds exploratory variants (plain SQL dumps,
#   our `backup --stdin` at --compression max: slow).
#   --files: the prune case's number of small files (default 200000, one data blob each).
#   --tree-files, --tree-mib: the generated tree of the tree, restore and s3 cases (default 6000 files, 280 MiB).
#     tree: first backup, unchanged repeat with a cold page cache (when run as root where the kernel allows
#     dropping it; otherwise it says so and measures warm only) and warm, repeat after 1% of the files changed.
#   --connections: S3 connections of both programs in the s3 case (default 5, restic's -o s3.connections).
#   --blobs: the index case's number of tiny distinct files, one data blob each (default 2000000: its set-up and
#     restic's backup take several minutes).
#   startup (no options): `version`, and `snapshots` of a small repository, timed from start to exit.
#   --wal-mib: the pitr case's WAL backlog (default 2048), archived by ours and by pgBackRest (installed here for it);
#     then a base backup and a restore to a time each. Runs as root (PostgreSQL as postgres).
set -euo pipefail
cd "$(dirname "$0")/../.."
args=" $* "
# Whether a case runs: every one without --case, else the named ones.
runs() { [[ "$args" != *" --case "* || "$args" == *" --case $1 "* ]]; }
need=()
command -v restic >/dev/null || need+=(restic)
[ -x /usr/bin/time ] || need+=(time)
command -v clang >/dev/null || need+=(clang)
if runs nightly || runs pitr; then [ -x /usr/lib/postgresql/15/bin/pg_dump ] || need+=(postgresql); fi
if runs pitr; then command -v pgbackrest >/dev/null || need+=(pgbackrest); fi
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The s3 case runs s3rver from tests/stack, as the tests do.
if runs s3 && [ ! -d tests/stack/node_modules/s3rver ]; then
  (cd tests/stack && npm install --no-audit --no-fund --loglevel=error)
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
dotnet publish agent/BackupAgent -c Release -r linux-x64 -o "$out/agent" -p:PublishAot=true >/dev/null
restic version
dotnet run --project tests/bench -c Release -- "$out/agent/backup-agent" "$@"
