#!/usr/bin/env bash
# Runs every test. Installs what the tests need (Debian packages, npm packages) when missing; the tests start
# their own servers (s3rver, PostgreSQL, Redis, ...) on 127.0.0.1 and stop them.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

need_apt=()
command -v restic >/dev/null || need_apt+=(restic)
[ -x /usr/lib/postgresql/15/bin/initdb ] || need_apt+=(postgresql)
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v zstd >/dev/null || need_apt+=(zstd)
command -v openssl >/dev/null || need_apt+=(openssl)
command -v qemu-aarch64 >/dev/null || need_apt+=(qemu-user)
command -v strace >/dev/null || need_apt+=(strace)
command -v zsh >/dev/null || need_apt+=(zsh)
command -v groff >/dev/null || need_apt+=(groff-base)
command -v chromium >/dev/null || need_apt+=(chromium)
command -v systemd-analyze >/dev/null || need_apt+=(systemd)
if [ ${#need_apt[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: ${need_apt[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -d tests/stack/node_modules ] || [ tests/stack/package.json -nt tests/stack/node_modules ]; then
  (cd tests/stack && npm install --no-audit --no-fund --loglevel=error)
  touch tests/stack/node_modules
fi

# The tests run the agent as shipped: Native AOT, built here once for both machines (ReleaseBuildTests checks
# the binaries; every other test runs the x64 one).
release=$(mktemp -d)
chmod 755 "$release"  # PostgreSQL's own account runs it as archive_command in the PITR tests
log=$(mktemp)
trap 'rm -rf "$release" "$log"' EXIT
echo "building the release agent (agent/build.sh)"
if ! agent/build.sh "$release" >"$release/build.log" 2>&1; then
  cat "$release/build.log"
  echo "tests: agent/build.sh failed"
  exit 1
fi
export BACKUP_AGENT_RELEASE="$release"
set +e
dotnet test Serverless.sln -c Release --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line in the form CI reads: "N passed, N failed, N skipped" (dotnet prints them on separate lines).
count() { { grep -E "^\s+$1: +[0-9]+" "$log" || true; } | awk '{s+=$2} END {print s+0}'; }
summary="$(count Passed) passed, $(count Failed) failed, $(count Skipped) skipped"
# CI keeps only the tail of the output: repeat each failure (name, message, first lines of the stack) just above
# the summary so a failure on a clean machine is never a bare count.
awk '/^  Failed /{n=25; print "---"} /^  (Passed|Skipped) |^\[xUnit/{n=0} n>0{print; n--}' "$log" | head -300
echo "tests: $summary"
exit "$status"
