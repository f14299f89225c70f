"""`nox -s bench`: the newest unit under load, next to a bare Flask + psycopg app.

    nox -s bench                        # scale 20, every scale of the series (about 10 min)
    nox -s bench -- --quick             # shorter runs, scales 1 and 5 plus --scale (CI)
    nox -s bench -- --scale 5 --output benchmarks/results/mine

One throwaway PostgreSQL holds a database per scale, created and seeded with the unit's own
`flask init-db` and `flask seed --scale N`. At each scale the unit and the bare app
(bare_app.py: the same SQL, the same pool sizes) are served by gunicorn with the same
options, and locust (load.py) drives them in turn. At `--scale` every endpoint is measured
on both, interleaved; at every scale, the first and the last page of the section list. The
result is printed with the targets of the performance issue, PASS or FAIL, and written as
JSON and as an SVG chart (see docs/reference/performance.md).
"""

import argparse
import json
import os
import platform
import random
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from chart import write_chart
from report import evaluate_targets, print_report, write_markdown
from servers import (
    BARE_APP,
    BENCHMARKS,
    GUNICORN_OPTIONS,
    UNIT_APP,
    LoadDriver,
    base_env,
    drop_database,
    prepare_database,
    serving,
    start_postgres,
)

from scheduler_common.seed import DEV_ADMIN_EMAIL, DEV_PASSWORD

SCALES = (1, 5, 20, 50)
QUICK_SCALES = (1, 5)
API = "/api/v1"
CONTENTION_TERM = "2030-fall"  # no seeded section is in these terms: no clash, no credit limit
BURST_TERM = "2031-spring"
SLOW_STRETCH = 3
STATEMENT_SAMPLES = 5  # sequential requests per endpoint when counting statements


@dataclass(frozen=True)
class Plan:
    """How long and how hard to push: the full run or the quick one."""

    scales: tuple[int, ...]
    warmup: float  # seconds of load before measuring (fills pools, prepares statements)
    seconds: float  # seconds measured per run
    rounds: int  # app/bare pairs per endpoint, alternating which goes first
    users: int = 16  # concurrent locust users for the endpoint comparison
    login_users: int = 8
    page_users: int = 4  # for the scale series, where latency matters more than throughput
    burst: int = 200  # concurrent enrollments ...
    burst_seats: int = 10  # ... into this many seats
    background_logins: int = 32
    readers: int = 4  # cheap GETs measured while the logins run


FULL = Plan(scales=SCALES, warmup=2, seconds=6, rounds=2)
QUICK = Plan(scales=QUICK_SCALES, warmup=1, seconds=3, rounds=1)


@dataclass(frozen=True)
class Fixtures:
    """What the scenarios need from one seeded database."""

    admin_token: str
    student_emails: list[str]
    student_ids: list[int]
    sections: int
    courses: int
    busiest_section: int
    contention_section: int
    burst_section: int


def call(method: str, url: str, body: dict | None = None, token: str | None = None):
    """One plain HTTP request; return (status, decoded JSON body or None)."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    return status, (json.loads(raw) if raw else None)


def schedule(app_url: str, token: str, fields: dict) -> int:
    """Create a section through the unit's API (as the admin) and return its id."""
    status, body = call("POST", f"{app_url}{API}/sections", fields, token)
    if status != 201:
        raise RuntimeError(f"could not create a benchmark section: {status} {body}")
    return body["id"]


def make_fixtures(app_url: str, database_url: str, plan: Plan) -> Fixtures:
    """Log in as the admin, look up ids and accounts, and schedule the sections that the
    enrollment scenarios fill (in terms of their own, so that nothing clashes)."""
    status, tokens = call(
        "POST", f"{app_url}{API}/auth/login", {"email": DEV_ADMIN_EMAIL, "password": DEV_PASSWORD}
    )
    if status != 200:
        raise RuntimeError(f"the seeded admin cannot log in: {status} {tokens}")
    token = tokens["access_token"]
    with psycopg.connect(database_url) as conn:
        students = conn.execute(
            "SELECT student_id, email FROM users WHERE role = 'student' ORDER BY student_id"
            " LIMIT %s",
            (plan.burst + plan.users + STATEMENT_SAMPLES,),
        ).fetchall()
        sections, courses = conn.execute(
            "SELECT (SELECT count(*) FROM sections), (SELECT count(*) FROM courses)"
        ).fetchone()
        busiest = conn.execute(
            "SELECT section_id FROM enrollments GROUP BY section_id"
            " ORDER BY count(*) DESC, section_id LIMIT 1"
        ).fetchone()[0]
        big_room, big_capacity = conn.execute(
            "SELECT id, capacity FROM rooms ORDER BY capacity DESC, id LIMIT 1"
        ).fetchone()
    meeting = {"course_id": 1, "instructor_id": 1, "room_id": big_room, "days": ["MON"]}
    meeting |= {"starts_at": "08:00", "ends_at": "09:00"}
    contention = schedule(
        app_url, token, {**meeting, "term": CONTENTION_TERM, "capacity": big_capacity}
    )
    burst = schedule(app_url, token, {**meeting, "term": BURST_TERM, "capacity": plan.burst_seats})
    return Fixtures(
        admin_token=token,
        student_emails=[email for _, email in students],
        student_ids=[student_id for student_id, _ in students],
        sections=sections,
        courses=courses,
        busiest_section=busiest,
        contention_section=contention,
        burst_section=burst,
    )


def endpoint_groups(fx: Fixtures, plan: Plan) -> dict[str, dict]:
    """The locust users for each endpoint of the comparison, by endpoint name."""
    rng = random.Random(2027)
    admin = {"Authorization": f"Bearer {fx.admin_token}"}

    def reading(name: str, paths: list[str], headers: dict | None = None) -> dict:
        """A group of users that GET these paths."""
        return {"kind": "get", "name": name, "count": plan.users, "paths": paths} | {
            "headers": headers or {}
        }

    filtered = [
        f"{API}/sections?term=2027-fall&course_id={rng.randint(1, fx.courses)}" for _ in range(200)
    ]
    return {
        "sections": reading("sections", [f"{API}/sections"]),
        "sections?term&course_id": reading("sections?term&course_id", filtered),
        "section": reading(
            "section", [f"{API}/sections/{rng.randint(1, fx.sections)}" for _ in range(200)]
        ),
        "courses": reading("courses", [f"{API}/courses"]),
        "roster": reading("roster", [f"{API}/sections/{fx.busiest_section}/enrollments"], admin),
        "login": {
            "kind": "login",
            "name": "login",
            "count": plan.login_users,
            "emails": fx.student_emails,
            "password": DEV_PASSWORD,
        },
        "enroll (contention)": {
            "kind": "enroll",
            "name": "enroll (contention)",
            "count": plan.users,
            "section": fx.contention_section,
            "students": fx.student_ids[: plan.users],
            "headers": admin,
        },
    }


def scenario(
    host: str, plan: Plan, *groups: dict, slow: bool = False, warmup: float | None = None
) -> dict:
    """A scenario for the load driver; a `slow` one (bcrypt at half a second a login) gets
    a longer warm-up and window, so that enough requests fall into it."""
    stretch = SLOW_STRETCH if slow else 1
    return {
        "host": host,
        "warmup": (plan.warmup if warmup is None else warmup) * stretch,
        "seconds": plan.seconds * stretch,
        "users": list(groups),
    }


def average(runs: list[dict]) -> dict:
    """The mean of several runs of one endpoint on one app, with the runs kept."""
    keys = ("rps", "p50_ms", "p99_ms")
    mean = {key: round(sum(run[key] for run in runs) / len(runs), 2) for key in keys}
    return mean | {"runs": runs}


def compare_endpoints(driver: LoadDriver, urls: dict, fx: Fixtures, plan: Plan) -> dict:
    """Every endpoint on both apps, interleaved: app then bare, then bare then app, ..."""
    measured: dict[str, dict[str, list]] = {}
    for round_number in range(plan.rounds):
        order = ("app", "bare") if round_number % 2 == 0 else ("bare", "app")
        for name, group in endpoint_groups(fx, plan).items():
            for which in order:
                load = os.getloadavg()[0]
                slow = group["kind"] == "login"
                result = driver.run(scenario(urls[which], plan, group, slow=slow))[name]
                measured.setdefault(name, {}).setdefault(which, []).append(
                    result | {"load_average": load}
                )
                print(f"  {name:<24} {which:<4} {result['rps']:8.1f} req/s", flush=True)
    return {
        name: {which: average(runs) for which, runs in per_app.items()}
        | {"ratio": round(average(per_app["app"])["rps"] / average(per_app["bare"])["rps"], 3)}
        for name, per_app in measured.items()
    }


def pages(driver: LoadDriver, urls: dict, fx: Fixtures, plan: Plan) -> dict:
    """The first and the last page of the section list on both apps (the scale series)."""
    last = f"{API}/sections?offset={max(0, fx.sections - 20)}"
    result = {}
    for page_name, path in (("first page", f"{API}/sections"), ("last page", last)):
        group = {"kind": "get", "name": page_name, "count": plan.page_users, "paths": [path]}
        for which in ("app", "bare"):
            run = driver.run(scenario(urls[which], plan, group))[page_name]
            result.setdefault(page_name, {})[which] = run
            print(f"  {page_name:<24} {which:<4} p50 {run['p50_ms']:7.1f} ms", flush=True)
    return result


def burst(driver: LoadDriver, app_url: str, database_url: str, fx: Fixtures, plan: Plan) -> dict:
    """`burst` enrollments at the same moment into a section of `burst_seats` seats."""
    group = {
        "kind": "burst",
        "name": "burst",
        "count": plan.burst,
        "section": fx.burst_section,
        "students": fx.student_ids[: plan.burst],
        "headers": {"Authorization": f"Bearer {fx.admin_token}"},
    }
    result = driver.run(scenario(app_url, plan, group, warmup=0))["burst"]
    # Seated and waiting as stored: from Unit 4 on, a full section answers 201 and waitlists.
    with psycopg.connect(database_url) as conn:
        result["stored"] = dict(
            conn.execute(
                "SELECT status, count(*) FROM enrollments WHERE section_id = %s GROUP BY status",
                (fx.burst_section,),
            ).fetchall()
        )
    print(f"  burst: {result['statuses']} {result['stored']} p99 {result['p99_ms']} ms", flush=True)
    return result


def reads_during_logins(driver: LoadDriver, app_url: str, fx: Fixtures, plan: Plan) -> dict:
    """A cheap GET measured while `background_logins` logins keep running."""
    logins = {
        "kind": "login",
        "name": "login (background)",
        "count": plan.background_logins,
        "emails": fx.student_emails,
        "password": DEV_PASSWORD,
    }
    reads = {"kind": "get", "name": "courses", "count": plan.readers, "paths": [f"{API}/courses"]}
    result = driver.run(scenario(app_url, plan, logins, reads, slow=True))
    print(f"  courses during logins: {result['courses']}", flush=True)
    return result


def count_statements(database_url: str, urls: dict, fx: Fixtures) -> dict:
    """Statements per request of each endpoint on each app, from pg_stat_statements: a few
    requests one after another, counting every statement the server ran (BEGIN and COMMIT
    included; psycopg_pool's empty-query health check is invisible to it)."""
    admin = fx.admin_token
    requests = {
        "sections": ("GET", f"{API}/sections", None, None),
        "sections?term&course_id": (
            "GET",
            f"{API}/sections?term=2027-fall&course_id=1",
            None,
            None,
        ),
        "section": ("GET", f"{API}/sections/1", None, None),
        "courses": ("GET", f"{API}/courses", None, None),
        "roster": ("GET", f"{API}/sections/{fx.busiest_section}/enrollments", None, admin),
        "login": ("POST", f"{API}/auth/login", "login", None),
        "enroll (contention)": (
            "POST",
            f"{API}/sections/{fx.contention_section}/enrollments",
            "enroll",
            admin,
        ),
    }
    spare = fx.student_ids[-STATEMENT_SAMPLES:]  # students no load scenario uses
    counts: dict[str, dict] = {}
    with psycopg.connect(database_url, autocommit=True) as conn:
        for name, (method, path, body_kind, token) in requests.items():
            for which, base in urls.items():
                conn.execute("SELECT pg_stat_statements_reset()")
                for n in range(STATEMENT_SAMPLES):
                    body = {
                        "login": {"email": fx.student_emails[n], "password": DEV_PASSWORD},
                        "enroll": {"student_id": spare[n]},
                        None: None,
                    }[body_kind]
                    call(method, base + path, body, token)
                total = conn.execute(
                    "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements"
                    " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
                    " AND query NOT ILIKE '%%pg_stat_statements%%'"
                ).fetchone()[0]
                counts.setdefault(name, {})[which] = round(int(total) / STATEMENT_SAMPLES, 1)
                if body_kind == "enroll":
                    for student in spare:
                        call("DELETE", f"{base}{path}/{student}", token=token)
    return counts


def git_commit() -> str:
    """The commit the benchmark ran on (with a + when the work tree had changes)."""

    def git(*args: str) -> str:
        """Run git in the repository and return its output."""
        return subprocess.run(
            ["git", *args], cwd=BENCHMARKS, capture_output=True, text=True, check=False
        ).stdout.strip()

    return git("rev-parse", "--short", "HEAD") + ("+" if git("status", "--porcelain") else "")


def run_benchmark(args: argparse.Namespace, plan: Plan) -> dict:
    """Seed each scale, serve both apps, measure; return the whole result."""
    scales = sorted({*plan.scales, args.scale})
    result: dict = {
        "meta": {
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": git_commit(),
            "scale": args.scale,
            "quick": args.quick,
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": os.getloadavg(),
            "tool": f"locust {version('locust')} (FastHttpUser, headless, as a library)",
            "gunicorn": " ".join(GUNICORN_OPTIONS),
            "plan": plan.__dict__,
        },
        "scales": [],
    }
    env = base_env()
    with ExitStack() as stack:
        log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        server, counting = start_postgres(stack)
        result["meta"]["statements"] = (
            "pg_stat_statements" if counting else "not counted (no pg_stat_statements)"
        )
        driver = LoadDriver(stack)
        for scale in scales:
            print(f"scale {scale}: seeding", flush=True)
            database_url = prepare_database(server, scale, env, counting)
            with (
                serving(UNIT_APP, database_url, env, log_dir) as app_url,
                serving(BARE_APP, database_url, env, log_dir) as bare_url,
            ):
                urls = {"app": app_url, "bare": bare_url}
                fx = make_fixtures(app_url, database_url, plan)
                if scale == args.scale:
                    # Counted first: requests that a load run leaves queued would count too.
                    if counting:
                        result["statements"] = count_statements(database_url, urls, fx)
                    result["endpoints"] = compare_endpoints(driver, urls, fx, plan)
                    result["burst"] = burst(driver, app_url, database_url, fx, plan)
                    result["reads_during_logins"] = reads_during_logins(driver, app_url, fx, plan)
                page_result = pages(driver, urls, fx, plan)
                result["scales"].append({"scale": scale, "sections": fx.sections} | page_result)
            drop_database(server, database_url)
    result["meta"]["load_average_at_end"] = os.getloadavg()
    result["meta"]["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    return result


def version(package: str) -> str:
    """The installed version of a package."""
    from importlib.metadata import version as installed_version

    return installed_version(package)


def main() -> None:
    """Parse the options, run, report, write the JSON and the chart."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=20, help="scale of the endpoint comparison")
    parser.add_argument("--quick", action="store_true", help="short runs and small scales (CI)")
    parser.add_argument(
        "--output",
        type=Path,
        default=BENCHMARKS / "results" / "latest",
        help="where to write OUTPUT.json and OUTPUT.svg",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        default=BENCHMARKS / "results" / "before.json",
        help="the earlier result that 'today's throughput' means",
    )
    args = parser.parse_args()
    started = time.monotonic()
    result = run_benchmark(args, QUICK if args.quick else FULL)
    baseline = None
    if (
        args.baseline.exists()
        and args.baseline.resolve() != args.output.with_suffix(".json").resolve()
    ):
        baseline = json.loads(args.baseline.read_text())
    result["targets"] = evaluate_targets(result, baseline)
    result["meta"]["seconds"] = round(time.monotonic() - started)
    print_report(result)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    write_chart(result, args.output.with_suffix(".svg"))
    write_markdown(result, args.output.with_suffix(".md"))
    print(f"Wrote {args.output}.json, .svg and .md.")


if __name__ == "__main__":
    main()
