"""The load driver: locust, headless and used as a library, in a process of its own.

The benchmark starts it once and writes it one scenario per line (JSON) on its standard
input; it answers each with one line (JSON) of what it measured, per request name: how many
requests started inside the measured window, requests per second, p50/p90/p99/max latency
in milliseconds and the status codes. Importing locust patches the standard library for
gevent, which is why it runs apart from the benchmark (plain threads, psycopg, gunicorn).

A scenario: {"host", "warmup", "seconds", "users": [{"kind", "count", "name", ...}, ...]}
with kinds `get` (random pick of `paths`), `login` (`emails`, `password`), `enroll` (each
user enrolls its own student from `students` into `section`, then drops them, over and
over) and `burst` (each user enrolls its own student once, all at the same moment).
"""

import itertools
import json
import random
import sys
import time

import gevent
from gevent.event import Event
from locust import FastHttpUser, constant, task
from locust.env import Environment
from locust.event import Events
from locust.exception import StopUser

BURST_TIMEOUT = 60  # seconds a burst may take before the driver gives up on it
DRAIN_TIMEOUT = 30  # seconds the users get to finish their last request
MAX_SPAWN_RATE = 100  # users started per second (locust warns above); a burst waits for all


def percentile(ordered: list[float], fraction: float) -> float:
    """The nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def summary(names: list[str], samples: list[tuple[str, float, int]], seconds: float) -> dict:
    """Per request name: count, throughput, latency percentiles and status codes."""
    result = {}
    for name in names:
        latencies = sorted(ms for sample_name, ms, _ in samples if sample_name == name)
        if not latencies:  # every request of the window was still running at the end
            result[name] = {"requests": 0, "rps": 0.0, "statuses": {}}
            result[name] |= dict.fromkeys(("p50_ms", "p90_ms", "p99_ms", "max_ms"), None)
            continue
        statuses: dict[str, int] = {}
        for sample_name, _, status in samples:
            if sample_name == name:
                statuses[str(status)] = statuses.get(str(status), 0) + 1
        result[name] = {
            "requests": len(latencies),
            "rps": round(len(latencies) / seconds, 2),
            "p50_ms": round(percentile(latencies, 0.50), 2),
            "p90_ms": round(percentile(latencies, 0.90), 2),
            "p99_ms": round(percentile(latencies, 0.99), 2),
            "max_ms": round(latencies[-1], 2),
            "statuses": statuses,
        }
    return result


def user_class(group: dict) -> type[FastHttpUser]:
    """A locust user class for one group of a scenario."""
    name, headers = group["name"], group.get("headers", {})
    rng = random.Random(2027)
    students = iter(group.get("students", ()))
    emails = itertools.cycle(group.get("emails", ("",)))

    class Base(FastHttpUser):
        """What every group shares: a fixed number of users that never pause."""

        abstract = True
        fixed_count = group["count"]
        wait_time = constant(0)

    if group["kind"] == "get":

        class Reader(Base):
            """Reads one of the paths, picked at random each time."""

            @task
            def read(self):
                """GET a path."""
                self.client.get(rng.choice(group["paths"]), headers=headers, name=name)

        return Reader

    if group["kind"] == "login":

        class LoggingIn(Base):
            """Logs in as the seeded accounts in turn."""

            @task
            def log_in(self):
                """POST a login."""
                body = {"email": next(emails), "password": group["password"]}
                self.client.post("/api/v1/auth/login", json=body, name=name)

        return LoggingIn

    path = f"/api/v1/sections/{group['section']}/enrollments"

    if group["kind"] == "enroll":

        class Enrolling(Base):
            """Enrolls its own student and drops them again, so every attempt can succeed."""

            def on_start(self):
                """Take a student of one's own; drop them if an earlier run left them in."""
                self.student = next(students)
                self.client.delete(f"{path}/{self.student}", headers=headers, name="cleanup")

            @task
            def enroll_and_drop(self):
                """POST an enrollment, then DELETE it."""
                body = {"student_id": self.student}
                self.client.post(path, json=body, headers=headers, name=name)
                self.client.delete(f"{path}/{self.student}", headers=headers, name="drop")

        return Enrolling

    everyone_ready = Event()
    ready = itertools.count(1)

    class Bursting(Base):
        """Waits until every user of the burst is ready, then enrolls its student once."""

        def on_start(self):
            """Take a student; the last user to arrive lets them all go."""
            self.student = next(students)
            if next(ready) == group["count"]:
                everyone_ready.set()
            everyone_ready.wait()

        @task
        def enroll_once(self):
            """POST one enrollment, then stop."""
            self.client.post(path, json={"student_id": self.student}, headers=headers, name=name)
            raise StopUser()

    return Bursting


def run(scenario: dict) -> dict:
    """Run one scenario and summarize the requests that finished in its measured window."""
    classes = [user_class(group) for group in scenario["users"]]
    events = Events()
    samples: list[tuple[str, float, int]] = []
    window = {"start": float("inf"), "end": float("inf")}

    def record(name, response_time, response=None, **_):
        """Keep every request that started inside the measured window (those still running
        when it closes are waited for: a starved request counts, however late it ends)."""
        started_at = time.monotonic() - response_time / 1000
        if window["start"] <= started_at <= window["end"]:
            samples.append((name, response_time, getattr(response, "status_code", 0)))

    events.request.add_listener(record)
    # Stopping lets each user finish the request it is in (up to DRAIN_TIMEOUT), so that no
    # request is left queued in the server to slow down whatever is measured next.
    env = Environment(
        user_classes=classes, host=scenario["host"], events=events, stop_timeout=DRAIN_TIMEOUT
    )
    runner = env.create_local_runner()
    users = sum(group["count"] for group in scenario["users"])
    started = time.monotonic()
    window["start"] = started + scenario["warmup"]
    runner.start(users, spawn_rate=min(users, MAX_SPAWN_RATE))
    if scenario["users"][0]["kind"] == "burst":
        deadline = started + BURST_TIMEOUT
        while len(samples) < users and time.monotonic() < deadline:
            gevent.sleep(0.05)
        seconds = time.monotonic() - started
    else:
        gevent.sleep(scenario["warmup"] + scenario["seconds"])
        window["end"] = started + scenario["warmup"] + scenario["seconds"]
        seconds = scenario["seconds"]
    runner.stop()
    runner.quit()
    return summary([group["name"] for group in scenario["users"]], samples, seconds)


def main() -> None:
    """Answer each scenario line with a result line until standard input closes."""
    for line in sys.stdin:
        print(json.dumps(run(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
