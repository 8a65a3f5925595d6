#!/usr/bin/env bash
# Runs the real workflow definition once on this machine (run.mjs) against a local stack that this script starts
# and stops: s3rver over HTTPS with a throwaway certificate (the repository, and the agent published as the stack
# publishes it), aws-ses-v2-local (the emails), the agent's SSM document as the stack synthesizes it (its install
# step downloads the agent into a scratch "box" directory), and the functions' bootstrap. It backs up one folder,
# then prints the execution's report and the emails Notify sent; exit 0 when the execution succeeded.
# Usage: statemachine/local/run-local.sh [INPUT_JSON] [FOLDER]
#   INPUT_JSON: the execution's input, as for aws stepfunctions start-execution (default {"drill": "skip"})
#   FOLDER:     what the agent backs up (default: statemachine/ of this checkout)
# Needs node, curl, openssl, the .NET SDK, and tests/stack's npm packages (npm install --no-audit --no-fund there).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
input=${1:-'{"drill": "skip"}'}
folder=$(realpath -m "${2:-$root/statemachine}")
modules="$root/tests/stack/node_modules"
for package in s3rver aws-ses-v2-local aws-local-stepfunctions; do
  [ -d "$modules/$package" ] || { echo "run-local.sh: $package is missing: run 'npm install --no-audit --no-fund' in tests/stack" >&2; exit 2; }
done

out=bin/Release/net10.0
agent_dir="$root/agent/BackupAgent/$out" functions_dir="$root/functions/Backups.Functions/$out" infra_dir="$root/infra/Backups.Infra/$out"
if [ ! -x "$agent_dir/backup-agent" ] || [ ! -x "$functions_dir/bootstrap" ] || [ ! -f "$infra_dir/Backups.Infra.dll" ]; then
  echo "run-local.sh: building first (dotnet build Serverless.sln -c Release)" >&2
  dotnet build "$root/Serverless.sln" -c Release -nologo -v q >&2
fi

work=$(mktemp -d)
pids=()
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap stop EXIT
free_port() { node -e "const s = require('net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })"; }
answers() { # URL LOG: wait until the server answers, or show its log
  for _ in $(seq 150); do curl -s -o /dev/null --cacert "$work/cert.pem" "$1" && return; sleep 0.1; done
  echo "run-local.sh: $1 does not answer; its output:" >&2; cat "$2" >&2; exit 1
}

# --- the local stack ------------------------------------------------------------------------------------------
# HTTPS: over plain HTTP s3rver keeps aws-chunked upload bodies undecoded.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -addext keyUsage=critical,digitalSignature,keyCertSign -addext extendedKeyUsage=serverAuth \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
bucket=backups-local
s3="https://127.0.0.1:$(free_port)"
# s3rver's listing continuation tokens need OpenSSL's legacy provider on node 17+.
node --openssl-legacy-provider "$modules/s3rver/bin/s3rver.js" -d "$work/s3" -a 127.0.0.1 -p "${s3##*:}" --silent \
  --key "$work/key.pem" --cert "$work/cert.pem" --configure-bucket "$bucket" >"$work/s3rver.log" 2>&1 &
pids+=($!)
ses="http://127.0.0.1:$(free_port)"
node "$modules/aws-ses-v2-local/dist/cli.js" --host 127.0.0.1 --port "${ses##*:}" >"$work/ses.log" 2>&1 &
pids+=($!)
answers "$s3" "$work/s3rver.log"
answers "$ses/store" "$work/ses.log"

# s3rver's keys; curl (the install step) trusts the throwaway certificate through CURL_CA_BUNDLE.
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export CURL_CA_BUNDLE="$work/cert.pem" LOCAL_REPOSITORY_PASSWORD
LOCAL_REPOSITORY_PASSWORD=$(openssl rand -hex 16)
repository="s3:$s3/$bucket/restic"
RESTIC_PASSWORD=$LOCAL_REPOSITORY_PASSWORD "$agent_dir/backup-agent" --cacert "$work/cert.pem" -r "$repository" init >/dev/null

# The agent, published as cdk deploy publishes it. `dotnet build` makes a framework-dependent program, so the box
# gets the program's other files beside the place the document installs it to (the release binary is one file).
sha256=$(sha256sum "$agent_dir/backup-agent" | cut -d ' ' -f 1)
agent_url="$s3/$bucket/agent/$sha256/backup-agent"
curl -fsS --aws-sigv4 "aws:amz:$AWS_REGION:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-content-sha256: $sha256" \
  -T "$agent_dir/backup-agent" "$agent_url"
mkdir "$work/box" "$work/functions-stub"
for f in "$agent_dir"/*; do [ "$(basename "$f")" = backup-agent ] || ln -s "$f" "$work/box/"; done
touch "$work/functions-stub/bootstrap"

cat >"$work/config.json" <<EOF
{ "repository": "$repository", "password": { "env": "LOCAL_REPOSITORY_PASSWORD" }, "cacert": "$work/cert.pem",
  "host": "local-box", "heartbeat_seconds": 5, "sources": [ { "name": "files", "kind": "paths", "paths": ["$folder"] } ] }
EOF

# --- the SSM document, as the stack synthesizes it (cdk.json's context, pointed at the files here) ------------------
context=$(node -e '
  const [cdk, work, agent] = process.argv.slice(1);
  const context = { ...JSON.parse(require("fs").readFileSync(cdk, "utf8")).context,
    instanceId: "i-0123456789abcdef0", hostName: "local-box", backupBucket: "backups-local",
    notifyFrom: "backups@local.test", notifyTo: "ops@local.test",
    agentPath: `${work}/box/backup-agent`, agentConfigPath: `${work}/config.json`,
    agentBinary: agent, functionsPath: `${work}/functions-stub` };
  console.log(JSON.stringify(context));' "$root/infra/cdk.json" "$work" "$agent_dir/backup-agent")
CDK_OUTDIR="$work/cdk.out" CDK_CONTEXT_JSON=$context dotnet "$infra_dir/Backups.Infra.dll" >"$work/synth.log" 2>&1 \
  || { echo "run-local.sh: the stack did not synthesize:" >&2; cat "$work/synth.log" >&2; exit 1; }

node -e '
  const fs = require("fs");
  const [template, bindings, functions, agentUrl, repository, cacert, ses] = process.argv.slice(1);
  const resources = Object.values(JSON.parse(fs.readFileSync(template, "utf8")).Resources);
  const document = resources.find((r) => r.Type === "AWS::SSM::Document").Properties.Content;
  const aws = { AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY,
    AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_REGION };
  fs.writeFileSync(bindings, JSON.stringify({
    agent: { document, defaults: { AgentUrl: agentUrl, AgentRegion: process.env.AWS_REGION },
      env: { ...aws, CURL_CA_BUNDLE: cacert, LOCAL_REPOSITORY_PASSWORD: process.env.LOCAL_REPOSITORY_PASSWORD } },
    functions: { command: [functions],
      handlers: { VerifyPlan: "verifyPlan", VerifySlice: "verify", VerifyMerge: "verifyMerge", Retention: "retention",
        Freshness: "freshness", Offsite: "offsite", NotifySuccess: "notify", NotifyFailure: "notify" },
      env: { ...aws, RESTIC_REPOSITORY: repository, RESTIC_PASSWORD: process.env.LOCAL_REPOSITORY_PASSWORD, RESTIC_CACERT: cacert,
        AWS_ENDPOINT_URL_SESV2: ses, NOTIFY_SENDER: "backups@local.test", NOTIFY_RECIPIENTS: "ops@local.test",
        NOTIFY_SUCCESS_SUMMARY: "always", BACKUP_HOST: "local-box", BACKUP_LOG_GROUP: "/backups/local-box/agent" } },
  }));' "$work/cdk.out/Backups.template.json" "$work/bindings.json" "$functions_dir/bootstrap" "$agent_url" "$repository" "$work/cert.pem" "$ses"

# --- the execution ------------------------------------------------------------------------------------------
status=0
node "$root/statemachine/local/run.mjs" --definition "$root/statemachine/backup.asl.json" --bindings "$work/bindings.json" \
  --input "$input" >"$work/report.json" || status=$?
[ "$status" -eq 0 ] || { echo "run-local.sh: run.mjs exited $status" >&2; exit "$status"; }
curl -fsS "$ses/store" >"$work/emails.json"
node -e '
  const fs = require("fs");
  const report = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  console.log(JSON.stringify(report, null, 2));
  for (const email of JSON.parse(fs.readFileSync(process.argv[2], "utf8")).emails ?? [])
    console.log(`\n--- email to ${[].concat(email.destination?.to ?? []).join(", ")}\nSubject: ${email.subject}\n\n${email.body?.text ?? ""}`);
  process.exit(report.status === "SUCCEEDED" ? 0 : 1);' "$work/report.json" "$work/emails.json"
