#!/usr/bin/env bash
# Issue 20, item 2: kill -9 a node under HTTP bench load, start it again with no client traffic, and time until every
# account its journal listed as owing a step (ledger_owing) has finished what it had in flight; then check the journal
# offline with verify --settled (nothing on its way, every asset summing to zero).
# Usage, from the repository root after `dotnet build -c Release Ledger.Host`:
#   docs/bench/crash-resume.sh [accounts=10000] [in-flight requests=16] [batch=64] [seconds of load before the kill=20]
set -euo pipefail
ACCOUNTS=${1:-10000} INFLIGHT=${2:-16} BATCH=${3:-64} LOAD=${4:-20}
HOST=Ledger.Host/bin/Release/net10.0/Ledger.Host.dll
DATA=$(mktemp -d /tmp/crash-resume.XXXXXX)
PORT=${PORT:-5093}
trap 'kill -9 $(cat "$DATA/pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$DATA"' EXIT
start() { dotnet "$HOST" --urls "http://127.0.0.1:$PORT" --Ledger:DataDir="$DATA" --Ledger:AdminKey=bench > "$DATA/$1.log" 2>&1 & echo $! > "$DATA/pid"; }
ready() { until curl -sf "http://127.0.0.1:$PORT/healthz/ready" > /dev/null; do sleep 0.05; done; }
ms() { echo $(( ($2 - $1) / 1000000 )); }

start first; ready
dotnet "$HOST" bench --url "http://127.0.0.1:$PORT" --key bench --batch "$BATCH" --in-flight "$INFLIGHT" --accounts "$ACCOUNTS" \
  --seconds $((LOAD + 60)) > "$DATA/bench.log" 2>&1 &
BENCH=$!
until grep -qs measuring "$DATA/bench.log"; do sleep 0.1; done
sleep "$LOAD"
kill -9 "$(cat "$DATA/pid")"; kill "$BENCH" 2>/dev/null || true; wait "$BENCH" 2>/dev/null || true

T0=$(date +%s%N); start second; ready; T1=$(date +%s%N)
until grep -q "every account woken has finished\|no account owed a step\|still owe a step" "$DATA/second.log"; do sleep 0.02; done
T2=$(date +%s%N)
echo "restart until ready: $(ms "$T0" "$T1") ms; ready until every woken account finished: $(ms "$T1" "$T2") ms"
grep -h "woke\|every account woken\|no account owed\|still owe" "$DATA/second.log" | sed 's/.*owing-resumer\] //'
kill -TERM "$(cat "$DATA/pid")"; while kill -0 "$(cat "$DATA/pid")" 2>/dev/null; do sleep 0.2; done
dotnet "$HOST" verify --data "$DATA" --settled | tail -n 2
