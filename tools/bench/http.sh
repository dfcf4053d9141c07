#!/usr/bin/env bash
# HTTP load benchmark of `q2c local` (release build, fresh data dir, loopback):
# POST /quote and GET /quote/{id} at 32 connections with wrk (Debian package `wrk`),
# plus start-to-ready time of `q2c local`. Results go to docs/benchmarks.md by hand.
#
#   ./tools/bench/http.sh [seconds per run, default 20]
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-20}
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }
cargo build --release -q -p q2c
bin=target/release/q2c

data=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export Q2C_JWT_SECRET=bench-secret RUST_LOG=warn

start=$(date +%s%N)
$bin local --addr "127.0.0.1:$port" --data-dir "$data" >/dev/null 2>&1 &
pid=$!
until curl -fsS -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null; do sleep 0.002; done
ready=$(( ($(date +%s%N) - start) / 1000000 ))
echo "start-to-ready (spawn to first 200 on /health, fresh data dir): ${ready} ms"

export Q2C_BENCH_TOKEN
Q2C_BENCH_TOKEN=$($bin token --tenant bench --scopes all --data-dir "$data")
base="http://127.0.0.1:$port/tmf-api/quoteManagement/v4"
id=$(curl -fsS -H "Authorization: Bearer $Q2C_BENCH_TOKEN" -H 'Content-Type: application/json' \
  -d '{"quoteItem":[{"productOffering":{"id":"mobile-l"},"quantity":1}]}' "$base/quote" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
export Q2C_BENCH_QUOTE="/tmf-api/quoteManagement/v4/quote/$id"

echo; echo "== POST /quote, 32 connections, ${duration}s"
wrk -t2 -c32 -d"${duration}s" --latency -s tools/bench/post-quote.lua "$base/quote"
echo; echo "== GET /quote/{id}, 32 connections, ${duration}s"
wrk -t2 -c32 -d"${duration}s" --latency -s tools/bench/get-quote.lua "http://127.0.0.1:$port"
