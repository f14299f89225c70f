"""The load driver: locust, headless and used as a library, in a process of its own.

The benchmark starts it once and writes it one scenario per line (JSON) on its standard
input; it answers each with one line (JSON) of what it measured, per request name: how many
requests finished inside the measured window, requests per second, p50/p90/p99/max latency
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


def percentile(ordered: list[float], fraction: float) -> float:
    """The nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def summary(samples: list[tuple[str, float, int]], seconds: float) -> dict:
    """Per request name: count, throughput, latency percentiles and status codes."""
    result = {}
    for name in sorted({sample[0] for sample in samples}):
        latencies = sorted(ms for sample_name, ms, _ in samples if sample_name == name)
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
    window: dict[str, float] = {}

    def record(name, response_time, response=None, **_):
        """Keep every request that finished inside the measured window."""
        now = time.monotonic()
        if window and window["start"] <= now <= window["end"]:
            samples.append((name, response_time, getattr(response, "status_code", 0)))

    events.request.add_listener(record)
    env = Environment(user_classes=classes, host=scenario["host"], events=events)
    runner = env.create_local_runner()
    users = sum(group["count"] for group in scenario["users"])
    started = time.monotonic()
    window.update(start=started + scenario["warmup"], end=float("inf"))
    runner.start(users, spawn_rate=users)
    if scenario["users"][0]["kind"] == "burst":
        deadline = started + BURST_TIMEOUT
        while runner.user_count and time.monotonic() < deadline:
            gevent.sleep(0.05)
        seconds = time.monotonic() - started
    else:
        gevent.sleep(scenario["warmup"] + scenario["seconds"])
        window["end"] = started + scenario["warmup"] + scenario["seconds"]
        seconds = scenario["seconds"]
    runner.quit()
    return summary(samples, seconds)


def main() -> None:
    """Answer each scenario line with a result line until standard input closes."""
    for line in sys.stdin:
        print(json.dumps(run(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
