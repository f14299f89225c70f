"""compose.yaml scaled out (lesson 4.10): start the stack with compose.scale.yaml's three
api replicas, two workers and nginx in front, check that requests and jobs spread, and time
a read endpoint through the proxy with three replicas and then one. Reuses run_stack.py.

    sudo python3 unit4_extensions/container/scale_out.py   # podman, podman-compose installed
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import run_stack
from run_stack import PROJECT, UNIT, StackError, run

PROXY_IMAGE = "localhost/scheduler-proxy:ci"
REPLICAS = ["api", "api-2", "api-3"]
WORKERS = ["worker_1", "worker_2"]
CONCURRENCY = 32  # clients at once, the same for both runs
SECONDS = 20  # each run's length
READ = "/courses?limit=20"  # public: no token needed
RESULTS = UNIT.parent / "benchmarks" / "results" / "scale-out.json"


def scaled(*args: str) -> None:
    """Run podman-compose on compose.yaml with compose.scale.yaml over it."""
    files = ["--file", str(UNIT / "compose.yaml"), "--file", str(UNIT / "compose.scale.yaml")]
    run(["podman-compose", "--project-name", PROJECT, *files, *args])


def logs(name: str) -> str:
    """A container's log so far (stdout and stderr)."""
    done = run(["podman", "logs", f"{PROJECT}_{name}"], capture_output=True, text=True)
    return done.stdout + done.stderr


def load(url: str) -> dict:
    """CONCURRENCY threads GET url for SECONDS; throughput and latency percentiles."""
    latencies: list[float] = []
    errors = [0]
    stop = time.monotonic() + SECONDS

    def client() -> None:
        """One client: a request at a time until the run ends."""
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    response.read()
                latencies.append(time.perf_counter() - started)
            except OSError:
                errors[0] += 1

    threads = [threading.Thread(target=client) for _ in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 15)
    ordered = sorted(latencies)

    def ms(fraction: float) -> float:
        """The latency below which this fraction of the requests finished, in ms."""
        return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000, 1)

    rate = round(len(ordered) / SECONDS, 1)
    return {
        "req_s": rate,
        "p50_ms": ms(0.5),
        "p95_ms": ms(0.95),
        "p99_ms": ms(0.99),
        "errors": errors[0],
    }


def check_spread(base_url: str) -> None:
    """Every api replica served some of 60 requests through the proxy (their access logs)."""
    before = {name: logs(f"{name}_1").count("GET /api/v1/health") for name in REPLICAS}
    for _ in range(60):
        urllib.request.urlopen(f"{base_url}/health", timeout=10).read()
    served = {n: logs(f"{n}_1").count("GET /api/v1/health") - before[n] for n in REPLICAS}
    print(f"Health requests served by each replica: {served}", flush=True)
    if not all(served.values()):
        raise StackError(f"The proxy left a replica idle: {served}")


def check_workers(base_url: str) -> None:
    """Six registrations' mail delivered, by jobs that both workers took (the worker_id
    procrastinate 3 writes on each job it hands out)."""
    for _ in range(6):
        run_stack.check_mail_delivery(base_url)
    sql = "SELECT count(DISTINCT worker_id) FROM procrastinate_jobs WHERE worker_id IS NOT NULL"
    psql = ["podman", "exec", f"{PROJECT}_db_1", "psql", "-U", "scheduler", "-tAc", sql]
    workers = int(run(psql, capture_output=True, text=True).stdout.strip() or 0)
    print(f"Jobs were run by {workers} distinct workers.", flush=True)
    if workers < len(WORKERS):
        raise StackError(f"Only {workers} of {len(WORKERS)} workers ran a job.")


def main() -> int:
    """Build, start scaled, check the spread, measure 3 then 1 replicas, always tear down."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    run_stack.make_secret_key()
    run_stack.build_images()
    context = run_stack.ROOT
    run_stack.build(
        UNIT / "container/proxy.Dockerfile",
        context,
        PROXY_IMAGE,
        f"BASE_IMAGE={run_stack.BASE_IMAGE}",
    )
    port = run_stack.free_port()
    os.environ.update(
        POSTGRES_IMAGE=run_stack.POSTGRES_IMAGE,
        API_IMAGE=run_stack.API_IMAGE,
        MAIL_IMAGE=run_stack.MAIL_IMAGE,
        PROXY_IMAGE=PROXY_IMAGE,
        API_PORT=str(run_stack.free_port()),
        MAIL_UI_PORT=str(run_stack.free_port()),
        PROXY_PORT=str(port),
    )
    base_url = f"http://127.0.0.1:{port}/api/v1"
    try:
        # run_stack's order for db, migrate, mail, api and worker_1; then the rest of the
        # scaled services. worker_1 exists already, and podman-compose 1.6 then makes no
        # more of `deploy.replicas` for it: `--scale` asks for the second one.
        run_stack.start_stack()
        scaled(
            "up",
            "--detach",
            "--no-deps",
            "--scale",
            "worker=2",
            "api-2",
            "api-3",
            "worker",
            "proxy",
        )
        for name in REPLICAS[1:]:
            run_stack.wait_healthy(name)
        check_spread(base_url)
        check_workers(base_url)
        results = {"concurrency": CONCURRENCY, "seconds": SECONDS, "endpoint": READ}
        results["replicas_3"] = load(base_url + READ)
        run(["podman", "stop", f"{PROJECT}_api-2_1", f"{PROJECT}_api-3_1"])
        # nginx still lists the stopped two: a few requests first, so it marks them down.
        for _ in range(10):
            urllib.request.urlopen(base_url + READ, timeout=10).read()
        results["replicas_1"] = load(base_url + READ)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
        print(json.dumps(results, indent=2), flush=True)
    except (StackError, subprocess.CalledProcessError, OSError) as error:
        print(f"\nSCALE-OUT RUN FAILED: {error}", file=sys.stderr)
        return 1
    finally:
        scaled("down", "--volumes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
