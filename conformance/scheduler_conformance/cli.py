"""`scheduler-conformance --base-url URL --unit 2`: check a running server, lesson by lesson."""

import argparse
import sys
import time
from pathlib import Path

from scheduler_conformance import report, runner
from scheduler_conformance.http import API_PREFIX
from scheduler_conformance.lessons import AVAILABLE_UNITS, LESSONS, NOT_CHECKED_OVER_HTTP, UNITS
from scheduler_conformance.registry import CHECKS
from scheduler_conformance.world import Settings, World

EXIT_PASSED, EXIT_FAILED = 0, 1


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line; every option is described in the README."""
    parser = argparse.ArgumentParser(prog="scheduler-conformance", description=__doc__)
    parser.add_argument("--list", action="store_true", help="list the checks per lesson, and stop")
    parser.add_argument(
        "--base-url",
        help="the server, e.g. http://127.0.0.1:5000 (a trailing /api/v1 is fine)",
    )
    parser.add_argument(
        "--unit",
        type=int,
        choices=UNITS,
        default=max(AVAILABLE_UNITS),
        help="the server's unit: check its lessons and every unit's before it, as that unit "
        "has them (from Unit 4 on, a full section waitlists instead of answering 409)",
    )
    parser.add_argument(
        "--lesson",
        choices=list(LESSONS),
        help="check one lesson only, e.g. 1.6 (as --unit has it)",
    )
    parser.add_argument("--admin-email", help="an admin account's email (Unit 2 on)")
    parser.add_argument("--admin-password", help="that account's password")
    tokens = parser.add_mutually_exclusive_group()
    tokens.add_argument(
        "--database-url", help="read verification mails from this database's outbox"
    )
    tokens.add_argument(
        "--verify-command", help="a shell command printing the verification token for {email}"
    )
    parser.add_argument(
        "--instructor-command",
        help="a shell command giving instructor {instructor_id} ({email}) the password {password}",
    )
    parser.add_argument(
        "--secret-key",
        help="the server's SECRET_KEY, to sign the crafted tokens of 2.2 and 3.3 (expired, "
        "without a required claim, under another algorithm)",
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request (10)")
    parser.add_argument("--time-limit", type=float, default=600.0, help="seconds for the run (600)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests per race (8)")
    parser.add_argument("--markdown", type=Path, default=Path("conformance-report.md"))
    parser.add_argument("--junit", type=Path, default=Path("conformance-report.xml"))
    args = parser.parse_args(argv)
    if not args.base_url and not args.list:
        parser.error("--base-url is required")
    if bool(args.admin_email) != bool(args.admin_password):
        parser.error("give --admin-email and --admin-password together")
    if args.concurrency < 2:
        parser.error("--concurrency must be at least 2: a race needs two runners")
    return args


def main(argv: list[str] | None = None) -> None:
    """Run the chosen lessons, print the card, write the reports, exit 1 on any failure."""
    args = parse_args(argv)
    if args.list:
        print(listing(runner.chosen_lessons(args.unit, args.lesson)))
        return
    base_url = args.base_url.rstrip("/").removesuffix(API_PREFIX)
    settings = Settings(
        base_url=base_url,
        unit=args.unit,
        admin_email=args.admin_email,
        admin_password=args.admin_password,
        database_url=args.database_url,
        verify_command=args.verify_command,
        instructor_command=args.instructor_command,
        secret_key=args.secret_key,
        request_timeout=args.timeout,
        run_limit=args.time_limit,
        concurrency=args.concurrency,
    )
    label = f"lesson {args.lesson}" if args.lesson else f"Unit {args.unit}"
    lessons = runner.chosen_lessons(args.unit, args.lesson)
    results = runner.run(World(settings), lessons, time.monotonic, progress=print_progress)
    print(file=sys.stderr)
    print(report.card(results, base_url, label))
    args.markdown.write_text(report.markdown(results, base_url, label), encoding="utf-8")
    args.junit.write_bytes(report.junit(results, label))
    print(f"\nWrote {args.markdown} and {args.junit}.")
    failed = any(result.status == runner.FAILED for result in results)
    sys.exit(EXIT_FAILED if failed else EXIT_PASSED)


def print_progress(outcome: runner.Outcome) -> None:
    """A dot per passed check, F per failure, s per skip, as the run goes."""
    mark = {runner.PASSED: ".", runner.FAILED: "F", runner.SKIPPED: "s"}[outcome.status]
    print(mark, end="", file=sys.stderr, flush=True)


def listing(lessons: list[str]) -> str:
    """Every check of the lessons, under its lesson's name."""
    lines = []
    for lesson in lessons:
        lines.append(f"{lesson} {LESSONS[lesson]}")
        titles = [check.title for check in CHECKS if check.lesson == lesson]
        if titles:
            lines += [f"  - {title}" for title in titles]
        elif lesson in NOT_CHECKED_OVER_HTTP:
            lines.append(f"  (not checked over HTTP: {NOT_CHECKED_OVER_HTTP[lesson]})")
        else:
            lines.append("  (not yet available)")
    return "\n".join(lines)
