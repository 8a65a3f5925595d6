#!/usr/bin/env bash
# Publishes one project as Native AOT release binaries (one file each) for linux-x64 and linux-arm64
# (Graviton), cross-compiled from an x64 Debian machine: the agent's and the functions' build.sh use it.
# Usage: build/publish-aot.sh PROJECT BINARY OUTDIR [RID...]   -> OUTDIR/<rid>/BINARY (+ BINARY.dbg, its
# symbols); intermediate files go to OUTDIR/.build. Without RIDs: both.
# Any trim/AOT (or other build) warning fails the build.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { echo "usage: build/publish-aot.sh PROJECT BINARY OUTDIR [RID...]" >&2; exit 2; }
project=$1 binary=$2
out=$(realpath -m "$3")
shift 3
rids=("$@")
[ ${#rids[@]} -gt 0 ] || rids=(linux-x64 linux-arm64)

command -v dotnet >/dev/null || { echo "publish-aot.sh: the .NET SDK (dotnet) is not on PATH" >&2; exit 1; }

# clang drives ILC's native link. For arm64, lld links against the aarch64 cross C runtime and libc, and the
# aarch64 objcopy splits off the symbols (the project file selects both when cross-compiling).
need_apt=()
for pkg in clang lld gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "publish-aot.sh: installing ${need_apt[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# Each RID gets its own intermediate tree under OUTDIR (never the projects' obj/ and bin/), so this can run
# while the tree is being built or tested elsewhere, and both publishes can run at once without sharing
# Backups.Core's output: much of ILC is single-threaded, so on two cores they overlap.
publish() {
  local rid=$1 build="$out/.build/$1"
  mkdir -p "$build"
  dotnet publish "$project" -c Release -r "$rid" -o "$out/$rid" --artifacts-path "$build" \
    -nologo -tl:off -warnaserror -p:TreatWarningsAsErrors=true -p:IlcTreatWarningsAsErrors=true \
    >"$build/publish.log" 2>&1
}

start=$SECONDS
pids=()
for rid in "${rids[@]}"; do
  rm -rf "${out:?}/$rid"
  publish "$rid" & pids+=($!)
done
failed=0
for i in "${!rids[@]}"; do
  rid=${rids[$i]} log="$out/.build/${rids[$i]}/publish.log"
  status=0; wait "${pids[$i]}" || status=$?
  # -warnaserror already turns warnings into errors; the grep also catches any a tool prints outside
  # MSBuild's warning format.
  if [ "$status" -ne 0 ] || grep -qiE '(^|[^a-z])warning([^a-z]|$)' "$log"; then
    echo "publish-aot.sh: $rid: publish exited $status (any warning fails the build too); its output:" >&2
    cat "$log" >&2
    failed=1
  fi
done
[ "$failed" -eq 0 ] || exit 1

for rid in "${rids[@]}"; do
  bin="$out/$rid/$binary"
  [ -x "$bin" ] || { echo "publish-aot.sh: $rid: no binary at $bin" >&2; exit 1; }
  stat -c %s "$bin" | awk -v rid="$rid" -v bin="$bin" '{ printf "%-12s %5.1f MiB (%d bytes)  %s\n", rid, $1 / 1048576, $1, bin }'
done
echo "built in $((SECONDS - start)) s"
