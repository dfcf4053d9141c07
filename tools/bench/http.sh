#!/usr/bin/env bash
# HTTP and event-pipeline benchmark of `q2c local`: builds a release q2c and runs
# tools/bench/pipeline.py against it (POST /quote and GET /quote/{id} with wrk at 32
# connections; requests/s, latency percentiles, errors counted per wrk thread, event lag and
# backlog). Results go to docs/benchmarks.md by hand.
#
#   ./tools/bench/http.sh [seconds per run, default 60] [more pipeline.py options]
#   ./tools/bench/http.sh 60 --q2c baseline=/work/baseline/q2c --rounds 2   # side by side
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-60}
shift || true
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }
cargo build --release --locked -q -p q2c
exec python3 tools/bench/pipeline.py --duration "$duration" --q2c new=target/release/q2c "$@"
