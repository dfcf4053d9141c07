#!/usr/bin/env python3
"""Init time of the Lambda bootstraps: process start to the first
`GET /2018-06-01/runtime/invocation/next` on a fake Lambda Runtime API, the moment a
function is ready for its first event (Lambda's own `Init Duration` also counts the
runtime's download and extraction, which this machine cannot reproduce).

Each run spawns the bootstrap with the environment Lambda and the SAM template give it
(region, credentials, function name, table and queue URLs; nothing it reaches over the
network before /next), records when its first /next arrives, and kills it. A bootstrap that
reports an init error (`POST /runtime/init/error`) or exits fails the measurement.

  tools/bench/lambda_init.py                       # target/lambda/*/bootstrap, 21 runs each
  tools/bench/lambda_init.py --runs 41 target/lambda/quote-api/bootstrap

The bootstraps must be built for this machine's architecture (on x86_64:
`ARCH=x86_64 tools/build-functions.sh`). Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
FUNCTIONS = ["quote-api", "outbox-relay", "price-fanout", "order-dispatch", "hub-delivery"]
QUEUES = "https://sqs.eu-west-1.amazonaws.com/123456789012/q2c-"
ENV = {
    "AWS_REGION": "eu-west-1",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "init-bench",
    "AWS_SESSION_TOKEN": "init-bench",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_LOG_FORMAT": "JSON",
    "AWS_LAMBDA_LOG_LEVEL": "INFO",
    "TABLE_NAME": "q2c",
    "QUOTE_EVENTS_QUEUE_URL": QUEUES + "quote-events",
    "QUOTE_EVENTS_DLQ_URL": QUEUES + "quote-events-dlq",
    "ORDERS_QUEUE_URL": QUEUES + "orders",
    "ORDERS_DLQ_URL": QUEUES + "orders-dlq",
    "PRICING_CHANGES_QUEUE_URL": QUEUES + "pricing-changes",
    "PRICING_CHANGES_DLQ_URL": QUEUES + "pricing-changes-dlq",
    "BILLING_UPDATES_QUEUE_URL": QUEUES + "billing-updates",
    "DOWNSTREAM_ORDER_API_URL": "https://orders.example.com/tmf-api/productOrderingManagement/v4",
    "MAX_RECEIVE_COUNT": "5",
}
ELF_MACHINES = {62: "x86_64", 183: "aarch64"}


def elf_machine(path: Path) -> str:
    header = path.read_bytes()[:20]
    if header[:4] != b"\x7fELF":
        return "not ELF"
    return ELF_MACHINES.get(int.from_bytes(header[18:20], "little"), "other")


class FakeRuntimeApi:
    """Accepts connections and notes when the first `/next` and any `/init/error` arrive;
    never answers /next (the bootstrap long-polls, as on Lambda before the first event)."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.address = "127.0.0.1:%d" % self.listener.getsockname()[1]
        self.event = threading.Event()
        self.first_next = None
        self.init_error = None
        self.connections = []
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self):
        for conn in self.connections:
            conn.close()
        self.connections = []
        self.first_next = None
        self.init_error = None
        self.event.clear()

    def _accept(self):
        while True:
            conn, _ = self.listener.accept()
            self.connections.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            data = b""
            while b"\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            now = time.perf_counter_ns()
            line = data.split(b"\r\n", 1)[0].decode(errors="replace")
            if "/runtime/invocation/next" in line and self.first_next is None:
                self.first_next = now
                self.event.set()
            elif "/runtime/init/error" in line:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                body = data.split(b"\r\n\r\n", 1)[-1][:2000]
                self.init_error = body.decode(errors="replace") or line
                conn.sendall(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n")
                self.event.set()
        except OSError:
            pass


def measure(bootstrap: Path, name: str, runtime: FakeRuntimeApi, runs: int) -> list:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RUST_LOG"))}
    env.update(ENV, AWS_LAMBDA_RUNTIME_API=runtime.address, AWS_LAMBDA_FUNCTION_NAME=f"q2c-{name}")
    times = []
    for _ in range(runs):
        runtime.reset()
        started = time.perf_counter_ns()
        process = subprocess.Popen([str(bootstrap)], env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
        ready = runtime.event.wait(30)
        exited = process.poll()
        process.kill()
        _, stderr = process.communicate()
        if runtime.init_error is not None or not ready or exited is not None:
            raise SystemExit(f"{bootstrap}: no /next (init error: {runtime.init_error}; exit "
                             f"{exited}; stderr: {stderr.decode(errors='replace')[-2000:]})")
        times.append((runtime.first_next - started) / 1e6)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("bootstraps", nargs="*", help="default: target/lambda/<function>/bootstrap")
    parser.add_argument("--runs", type=int, default=21, help="runs per bootstrap (21)")
    parser.add_argument("--json", metavar="FILE", help="append one JSON object per bootstrap")
    args = parser.parse_args()
    paths = [Path(p) for p in args.bootstraps] or [
        ROOT / "target/lambda" / f / "bootstrap" for f in FUNCTIONS]
    machine = platform.machine()
    for path in paths:
        if not path.is_file():
            raise SystemExit(f"{path}: missing (ARCH={machine} tools/build-functions.sh)")
        if elf_machine(path) != machine:
            raise SystemExit(f"{path} is built for {elf_machine(path)}, this machine is {machine}:"
                             f" ARCH={machine} tools/build-functions.sh")
    runtime = FakeRuntimeApi()
    load = os.getloadavg()
    print(f"{args.runs} runs each on {machine}, {os.cpu_count()} CPUs, load average"
          f" {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("| bootstrap | size (B) | median (ms) | p10 / p90 (ms) | min / max (ms) | first run (ms) |")
    print("|---|---|---|---|---|---|")
    for path in paths:
        name = path.parent.name if path.name == "bootstrap" else path.name
        times = measure(path, name, runtime, args.runs)
        ordered = sorted(times)
        deciles = statistics.quantiles(ordered, n=10) if len(ordered) > 1 else ordered * 9
        row = {
            "bootstrap": str(path), "function": name, "size": path.stat().st_size,
            "runs": len(times), "median_ms": statistics.median(times),
            "p10_ms": deciles[0], "p90_ms": deciles[-1], "min_ms": ordered[0],
            "max_ms": ordered[-1], "first_ms": times[0], "times_ms": times,
            "machine": machine, "load_average_before": load,
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        print(f"| {name} | {row['size']:,} | {row['median_ms']:.1f} | {row['p10_ms']:.1f} /"
              f" {row['p90_ms']:.1f} | {row['min_ms']:.1f} / {row['max_ms']:.1f} |"
              f" {row['first_ms']:.1f} |")
        sys.stdout.flush()
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
