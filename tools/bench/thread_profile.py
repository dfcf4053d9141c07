#!/usr/bin/env python3
"""Where `q2c local` spends its time under POST load, by thread, without symbols.

The release build is stripped, so a sampling profiler cannot name functions; this tool
answers the coarser question the outbox relay needed (issue 21): which threads are busy, and
is the one SQLite writer thread computing, waiting for the disk, or idle? For one q2c binary
(fresh data directory, `--no-consumers`, quotas off, as tools/bench/pipeline.py starts it) it
runs `wrk -t2 -c32` POST /quote for --duration seconds and meanwhile

  * reads every thread's user+system CPU time from /proc at the start and the end of the
    run, summed by thread name (`q2c-sqlite-wri` = the writer thread, `tokio-runtime-w` =
    the async workers: HTTP, pricing, the relay loop; blocking-pool threads = the SQLite
    readers);
  * samples the writer thread's state from /proc every 10 ms: R (running or runnable),
    D (in the kernel waiting for the disk: the WAL fsync of a group commit), S (sleeping:
    waiting for work);
  * counts quotes committed and `quote-events` messages enqueued during the run (the relay's
    throughput) and the backlog at the end.

Usage: tools/bench/thread_profile.py [--duration 20] [--connections 32] BINARY [BINARY...]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pipeline  # noqa: E402  (the server and wrk helpers)


def threads(pid: int) -> dict:
    """tid -> (name, cpu seconds, state)."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        out[int(task.name)] = (name, cpu, fields[0])
    return out


def profile(binary: str, args) -> dict:
    server = pipeline.Server(binary, [], keep=False)
    try:
        server.create_quote()
        pipeline.wait_drained(server.store, {"quotes": 0, "events": 0}, 60)
        pid = server.process.pid
        writer = [t for t, (name, _, _) in threads(pid).items() if name.startswith("q2c-sqlite-w")]
        before = threads(pid)
        snap = server.store.snapshot()
        states = collections.Counter()
        done = threading.Event()

        def sample():
            while not done.is_set():
                for tid in writer:
                    try:
                        stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
                        states[stat.rsplit(")", 1)[1].split()[0]] += 1
                    except OSError:
                        pass
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()
        env = dict(os.environ, Q2C_BENCH_TOKEN=server.token)
        started = time.monotonic()
        report = pipeline.run_wrk("post-quote.lua", f"{server.base}{pipeline.QUOTE_API}/quote",
                                  args, env)
        wall = time.monotonic() - started
        done.set()
        sampler.join()
        after = threads(pid)
        end = server.store.snapshot()
        by_name = collections.defaultdict(float)
        for tid, (name, cpu, _) in after.items():
            by_name[name] += cpu - before.get(tid, (name, 0.0, ""))[1]
        quotes = end["quotes"] - snap["quotes"]
        events = end["events"] - snap["events"]
        total = sum(states.values()) or 1
        return {
            "binary": binary,
            "requests_per_s": report["requests_per_s"],
            "latency_ms": report["latency_ms"],
            "non_2xx": report["non_2xx"],
            "wall_s": round(wall, 1),
            "quotes_committed": quotes,
            "events_enqueued": events,
            "events_per_s": round(events / wall),
            "backlog_at_end": quotes - events,
            "cpu_s_by_thread": {k: round(v, 2) for k, v in sorted(by_name.items(), key=lambda kv: -kv[1])},
            "writer_state_share": {k: round(v / total, 3) for k, v in states.most_common()},
            "load_average": os.getloadavg(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
    finally:
        server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("binaries", nargs="+")
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    for binary in args.binaries:
        print(json.dumps(profile(binary, args), indent=1))


if __name__ == "__main__":
    main()
