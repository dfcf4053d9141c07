#!/usr/bin/env python3
"""Pipeline benchmark of `q2c local`: the HTTP door *and* the events behind it.

For each q2c binary given (e.g. a baseline and a new build, interleaved over --rounds), on a
fresh data directory and loopback:

  POST /quote  with wrk (tools/bench/post-quote.lua): requests/s, latency percentiles,
               responses other than 201 and non-2xx (counted per wrk thread, see counters.lua),
               socket errors; then the events: **event lag** (commit -> message visible on
               `quote-events`, p50/p90/p99/max over every event of the run) and the **backlog**
               (committed quotes whose event is not yet on `quote-events`) when wrk ends and
               2 s later; how long the backlog took to drain; server CPU and RSS.
  GET /quote/{id} with wrk (tools/bench/get-quote.lua), after the POST backlog drained.

How the events are measured (read-only SQLite connection to the server's data directory,
which WAL lets read while the server writes):

  * `q2c local` runs with --no-consumers, so nothing deletes the quote-events messages (the
    hub-delivery consumer would within milliseconds) and every event of the run can be
    counted and timed after it, none sampled or missed. The consumers' own work (a receive
    and a delete per batch of 10 events) is therefore not part of the run; on AWS it is a
    separate function.
  * lag = queue_messages.sent_at - eventTime of the message body. Both stamps come from the
    server's clock: eventTime is taken when the quote's write is built (just before its
    commit) and travels in the message; sent_at when the message's insert runs (just before
    its commit). Neither depends on the outbox table, so the measure stays the same if a
    later version enqueues the event in the quote's own transaction (then lag ~ 0), or if
    outbox rows are short-lived or absent. It over-states commit->visible by the quote's
    own write latency and under-states it by the enqueue's commit latency (each a few ms).
  * backlog = quotes committed during the run minus quote-events messages of the run, both
    counted in one read transaction (one snapshot): design-independent. The outbox's own
    pending count (published_at IS NULL) is printed beside it when the table exists.

Usage:
  tools/bench/pipeline.py                                    # target/release/q2c, 60 s each
  tools/bench/pipeline.py --q2c baseline=/work/baseline/q2c --q2c new=target/release/q2c \\
      --rounds 2 --duration 60 --json results.jsonl
  tools/bench/pipeline.py --duration 20 -- --settings my-settings.toml   # args for q2c local

Needs wrk (Debian package `wrk`) and Python 3.9+ (standard library only).
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TENANT = "bench"
QUOTE_API = "/tmf-api/quoteManagement/v4"
SETUP_QUOTE = {"quoteItem": [{"productOffering": {"id": "mobile-l"}, "quantity": 1}]}
RFC3339 = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$"
)


def parse_time_ns(text: str) -> int:
    """RFC 3339 timestamp (up to nanoseconds) to unix nanoseconds."""
    m = RFC3339.match(text)
    if not m:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    fraction = (m.group(7) or "").ljust(9, "0")
    seconds = calendar.timegm((year, month, day, hour, minute, second))
    zone = m.group(8)
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return seconds * 1_000_000_000 + int(fraction)


def percentile(sorted_values: list, p: float):
    """Nearest-rank percentile of an ascending list (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * p // 100))  # ceil(n * p / 100)
    return sorted_values[int(min(rank, len(sorted_values))) - 1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Store:
    """Read-only view of the server's SQLite database."""

    def __init__(self, path: Path):
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
        self.db.execute("PRAGMA busy_timeout = 5000")
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        self.has_outbox = "outbox" in tables

    def snapshot(self) -> dict:
        """Quotes of the bench tenant, quote-events messages and their last seq, pending outbox
        rows: all from one read transaction."""
        self.db.execute("BEGIN")
        try:
            quotes = self.db.execute(
                "SELECT COUNT(*) FROM quotes WHERE tenant = ?", (TENANT,)
            ).fetchone()[0]
            events, last_seq = self.db.execute(
                "SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM queue_messages WHERE queue = 'quote-events'"
            ).fetchone()
            outbox = None
            if self.has_outbox:
                outbox = self.db.execute(
                    "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL"
                ).fetchone()[0]
        finally:
            self.db.execute("COMMIT")
        return {"quotes": quotes, "events": events, "last_seq": last_seq, "outbox_pending": outbox}

    def lags_ms(self, after_seq: int) -> list:
        """sent_at - eventTime of every quote-events message after `after_seq`, ascending."""
        lags = []
        rows = self.db.execute(
            "SELECT sent_at, COALESCE(json_extract(body, '$.eventTime'),"
            " json_extract(body, '$.timeOccurred')) FROM queue_messages"
            " WHERE queue = 'quote-events' AND seq > ?",
            (after_seq,),
        )
        for sent_at, event_time in rows:
            lags.append((sent_at - parse_time_ns(event_time)) / 1e6)
        lags.sort()
        return lags


def quotas_off(binary: str) -> list:
    """The flags that turn the per-tenant quotas off, for a build that has them (issue 15; a
    benchmark measures the door, not the rate limit): one tenant's load would otherwise be
    answered 429 past 50 requests/s. Older builds (a baseline) have no quotas and no flags."""
    usage = subprocess.run([binary, "local", "--help"], capture_output=True, text=True).stdout
    flags = []
    if "--tenant-requests-per-second" in usage:
        flags += ["--tenant-requests-per-second", "0"]
    if "--max-open-quotes" in usage:
        flags += ["--max-open-quotes", "0"]
    return flags


class Server:
    """A `q2c local` on a free loopback port with a fresh data directory."""

    def __init__(self, binary: str, extra_args: list, keep: bool):
        self.binary = binary
        self.data = Path(tempfile.mkdtemp(prefix="q2c-bench-"))
        self.keep = keep
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ, Q2C_JWT_SECRET=f"bench-{time.time_ns()}", RUST_LOG="warn")
        self.log = open(self.data / "server.log", "wb")
        self.quota_args = quotas_off(binary)
        started = time.monotonic()
        self.process = subprocess.Popen(
            [binary, "local", "--addr", f"127.0.0.1:{self.port}", "--data-dir", str(self.data),
             "--no-consumers", *self.quota_args, *extra_args],
            stdout=self.log, stderr=subprocess.STDOUT, env=self.env,
        )
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"{binary} local exited: see {self.data / 'server.log'}")
            try:
                with urllib.request.urlopen(f"{self.base}/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() - started > 60:
                raise SystemExit(f"{binary} local not ready after 60 s")
            time.sleep(0.002)
        self.ready_ms = (time.monotonic() - started) * 1000
        self.token = subprocess.run(
            [binary, "token", "--tenant", TENANT, "--scopes", "all", "--data-dir", str(self.data)],
            env=self.env, check=True, capture_output=True, text=True,
        ).stdout.strip()
        databases = sorted(self.data.glob("*.sqlite3"))
        if not databases:
            raise SystemExit(f"no *.sqlite3 database in {self.data}")
        self.store = Store(databases[0])

    def create_quote(self) -> str:
        request = urllib.request.Request(
            f"{self.base}{QUOTE_API}/quote", data=json.dumps(SETUP_QUOTE).encode(), method="POST",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as r:
            return json.load(r)["id"]

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        if self.keep:
            print(f"  data dir kept: {self.data}")
        else:
            shutil.rmtree(self.data, ignore_errors=True)


def run_wrk(script: str, url: str, args, env: dict) -> dict:
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s",
               "--latency", "-s", str(HERE / script), url]
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    report = None
    for line in out.splitlines():
        if line.startswith("q2c-bench: "):
            report = json.loads(line[len("q2c-bench: "):])
    if report is None:
        raise SystemExit(f"no q2c-bench line in wrk's output:\n{out}")
    # wrk's own count of statuses > 399, as it prints it (absent when 0): a cross-check.
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    report["wrk_printed_non_2xx"] = int(m.group(1)) if m else 0
    report["command"] = " ".join(command)
    return report


def wait_drained(store: Store, before: dict, timeout: float) -> tuple:
    """Polls until every quote committed since `before` has its event on quote-events;
    (seconds waited, last snapshot)."""
    started = time.monotonic()
    while True:
        snap = store.snapshot()
        if backlog(snap, before) <= 0 or time.monotonic() - started > timeout:
            return time.monotonic() - started, snap
        time.sleep(0.05)


def backlog(snap: dict, before: dict) -> int:
    return (snap["quotes"] - before["quotes"]) - (snap["events"] - before["events"])


def post_run(server: Server, args, env: dict) -> dict:
    before = server.store.snapshot()
    cpu_before = proc_cpu_seconds(server.process.pid)
    report = run_wrk("post-quote.lua", f"{server.base}{QUOTE_API}/quote", args, env)
    ended = time.monotonic()
    at_end = server.store.snapshot()
    cpu = proc_cpu_seconds(server.process.pid) - cpu_before
    time.sleep(max(0.0, ended + 2.0 - time.monotonic()))
    after_2s = server.store.snapshot()
    waited, drained = wait_drained(server.store, before, args.drain_timeout)
    lags = server.store.lags_ms(before["last_seq"])
    committed = drained["quotes"] - before["quotes"]
    report.update({
        "quotes_committed": committed,
        "events_visible": drained["events"] - before["events"],
        "backlog_at_end": backlog(at_end, before),
        "backlog_after_2s": backlog(after_2s, before),
        "outbox_pending_at_end": at_end["outbox_pending"],
        "outbox_pending_after_2s": after_2s["outbox_pending"],
        "drained_after_s": round(2.0 + waited, 2),
        "drained": backlog(drained, before) <= 0,
        "event_lag_ms": {
            "events": len(lags),
            "p50": percentile(lags, 50), "p90": percentile(lags, 90),
            "p99": percentile(lags, 99), "max": lags[-1] if lags else None,
        },
        "server_cpu_s": round(cpu, 2),
        "server_cpu_ms_per_request": round(cpu * 1000 / max(1, report["responses"]), 3),
        "server_rss_mib": round(proc_rss_mib(server.process.pid), 1),
    })
    return report


def get_run(server: Server, args, env: dict) -> dict:
    quote = server.create_quote()
    env = dict(env, Q2C_BENCH_QUOTE=f"{QUOTE_API}/quote/{quote}")
    cpu_before = proc_cpu_seconds(server.process.pid)
    report = run_wrk("get-quote.lua", server.base, args, env)
    cpu = proc_cpu_seconds(server.process.pid) - cpu_before
    report.update({
        "server_cpu_s": round(cpu, 2),
        "server_cpu_ms_per_request": round(cpu * 1000 / max(1, report["responses"]), 3),
        "server_rss_mib": round(proc_rss_mib(server.process.pid), 1),
    })
    return report


def fmt(value, digits=1):
    return "-" if value is None else f"{value:,.{digits}f}"


def print_run(r: dict):
    lat = r["latency_ms"]
    e = r["wrk"]["errors"]
    print(f"  {r['requests_per_s']:,.0f} req/s; latency p50 {fmt(lat['p50'], 2)} p90 {fmt(lat['p90'], 2)}"
          f" p99 {fmt(lat['p99'], 2)} max {fmt(lat['max'], 1)} ms; {r['responses']:,} responses,"
          f" non-2xx {r['non_2xx']}, not {r['expected_status']} {r['unexpected_status']}"
          f" (wrk: {r['wrk_printed_non_2xx']} over 399); socket errors connect {e['connect']}"
          f" read {e['read']} write {e['write']} timeout {e['timeout']}")
    if "event_lag_ms" in r:
        lag = r["event_lag_ms"]
        print(f"  events: {r['events_visible']:,} of {r['quotes_committed']:,} committed quotes;"
              f" lag p50 {fmt(lag['p50'])} p90 {fmt(lag['p90'])} p99 {fmt(lag['p99'])}"
              f" max {fmt(lag['max'])} ms; backlog {r['backlog_at_end']:,} at the end,"
              f" {r['backlog_after_2s']:,} 2 s later (outbox pending {r['outbox_pending_at_end']},"
              f" {r['outbox_pending_after_2s']}); drained after {r['drained_after_s']} s")
    print(f"  server: {r['server_cpu_s']} s CPU ({r['server_cpu_ms_per_request']} ms per request),"
          f" RSS {r['server_rss_mib']} MiB")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--q2c", action="append", metavar="[LABEL=]PATH",
                        help="q2c binary to measure (repeatable; default target/release/q2c)")
    parser.add_argument("--duration", type=int, default=60, help="seconds per wrk run (60)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds (1)")
    parser.add_argument("--scenario", choices=["post", "get", "both"], default="both")
    parser.add_argument("--drain-timeout", type=float, default=300,
                        help="most seconds to wait for the event backlog to drain (300)")
    parser.add_argument("--json", metavar="FILE", help="append one JSON object per run")
    parser.add_argument("--keep-data", action="store_true", help="keep the data directories")
    parser.add_argument("local_args", nargs="*", help="after --: extra arguments for q2c local")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("needs wrk: apt-get install wrk")
    binaries = []
    for item in args.q2c or [str(ROOT / "target/release/q2c")]:
        label, _, path = item.rpartition("=")
        if not Path(path).is_file():
            raise SystemExit(f"{path}: no such binary (cargo build --release -p q2c)")
        binaries.append((label or Path(path).name, str(Path(path).resolve())))

    results = []
    for round_ in range(1, args.rounds + 1):
        for label, binary in binaries:
            load = os.getloadavg()
            server = Server(binary, args.local_args, args.keep_data)
            print(f"\n== {label} ({binary}), round {round_}: start-to-ready"
                  f" {server.ready_ms:.0f} ms; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f};"
                  f" quotas {'off: ' + ' '.join(server.quota_args) if server.quota_args else 'none in this build'}")
            env = dict(os.environ, Q2C_BENCH_TOKEN=server.token)
            try:
                runs = []
                # The setup quote's event must be out before the baseline snapshot.
                server.create_quote()
                wait_drained(server.store, {"quotes": 0, "events": 0}, args.drain_timeout)
                if args.scenario in ("post", "both"):
                    print(f"-- POST /quote, wrk -t{args.threads} -c{args.connections} -d{args.duration}s")
                    runs.append(("POST /quote", post_run(server, args, env)))
                    print_run(runs[-1][1])
                if args.scenario in ("get", "both"):
                    print(f"-- GET /quote/{{id}}, wrk -t{args.threads} -c{args.connections} -d{args.duration}s")
                    runs.append(("GET /quote/{id}", get_run(server, args, env)))
                    print_run(runs[-1][1])
            finally:
                server.stop()
            for name, run in runs:
                run.update({"label": label, "binary": binary, "round": round_, "scenario": name,
                            "start_to_ready_ms": round(server.ready_ms, 1),
                            "load_average_before": [round(x, 2) for x in load],
                            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "nproc": os.cpu_count()})
                results.append(run)
                if args.json:
                    with open(args.json, "a") as f:
                        f.write(json.dumps(run) + "\n")

    print("\n| binary | round | scenario | req/s | p50 / p99 ms | errors (non-2xx, socket) |"
          " event lag p50 / p99 / max ms | backlog end / +2 s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        e = r["wrk"]["errors"]
        socket_errors = e["connect"] + e["read"] + e["write"] + e["timeout"]
        lag = r.get("event_lag_ms")
        lag_text = (f"{fmt(lag['p50'])} / {fmt(lag['p99'])} / {fmt(lag['max'])}" if lag else "")
        backlog_text = (f"{r['backlog_at_end']:,} / {r['backlog_after_2s']:,}" if lag else "")
        print(f"| {r['label']} | {r['round']} | {r['scenario']} | {r['requests_per_s']:,.0f} |"
              f" {fmt(r['latency_ms']['p50'], 2)} / {fmt(r['latency_ms']['p99'], 2)} |"
              f" {r['non_2xx']}, {socket_errors} | {lag_text} | {backlog_text} |")
    failed = [r for r in results if r["non_2xx"] or r["unexpected_status"] or not r.get("drained", True)]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
