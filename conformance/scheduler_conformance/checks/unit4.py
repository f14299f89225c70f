"""Unit 4 (lessons 4.7–4.9): the advisor's 202 flow and what accepting a plan does, and the
work the server does in the background (the waitlist's promotion, the outbox's delivery).

Lessons 4.1–4.6 and 4.10 teach containers, configuration, compose, migrations, external
sign-in and the server's own system tests, which plain HTTP cannot see:
`lessons.NOT_CHECKED_OVER_HTTP` says so on the card."""

import time
from urllib.parse import urljoin

from scheduler_conformance.checks.journeys import roster_ids, seats, seats_soon
from scheduler_conformance.checks.unit1 import expect_waitlisted
from scheduler_conformance.http import API_PREFIX, Reply
from scheduler_conformance.registry import (
    CheckSkipped,
    check,
    expect,
    expect_json,
    expect_problem,
    expect_status,
    is_integer,
)
from scheduler_conformance.world import Account, World, newest_mail

# How long the advisor may take to make a plan, and to deliver a mail (the worker's jobs).
PLAN_TIMEOUT = 60  # seconds
DELIVERY_TIMEOUT = 30  # seconds
POLL_INTERVAL = 0.2  # seconds
PLAN_STATUSES = {"pending", "ready", "failed"}
# The words of the goals the suite asks for: the sections it opens are of such a course.
GOALS = "I want databases and some statistics, mornings if possible."


# --- 4.9 background work ----------------------------------------------------------------------


@check("4.9", "a drop frees the seat to the one in line, in the background, within a bound")
def promotion_in_background(world: World) -> None:
    """Fill a one-seat section, line a second student up, drop the first: soon the second
    holds the seat (PROMOTION_TIMEOUT), and is the roster."""
    section = world.section(capacity=1)
    path = f"/sections/{section['id']}/enrollments"
    first, second = world.student(), world.student()
    reply = world.writer.post(path, {"student_id": first["id"]})
    body = expect_json(reply, 201)
    expect(body.get("status") == "enrolled", 'a free seat answers "status": "enrolled"', reply)
    expect_waitlisted(world.writer.post(path, {"student_id": second["id"]}), 1)
    seats(world, section["id"], 1, 0)
    expect_status(world.writer.delete(f"{path}/{first['id']}"), 204)
    seats_soon(world, section["id"], 1, 0)
    reply = world.writer.get(path)
    expect(
        roster_ids(world, section["id"]) == {second["id"]}, "the one in line is not seated", reply
    )


@check("4.9", "the outbox's mail is delivered in the background (needs --database-url)")
def outbox_delivered(world: World) -> None:
    """Register: the verification mail's outbox row gets its sent_at within DELIVERY_TIMEOUT."""
    if not world.settings.database_url:
        raise CheckSkipped("needs --database-url to read the outbox")
    email, reply = world.register()
    expect_status(reply, 201)
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while (sent := sent_at(world.settings.database_url, email)) is None:
        expect(
            time.monotonic() < deadline,
            f"the mail to {email} is not sent (sent_at) after {DELIVERY_TIMEOUT} s",
            reply,
        )
        time.sleep(POLL_INTERVAL)
    expect(sent is not False, f"no mail to {email} in the outbox", reply)


def sent_at(database_url: str, email: str):
    """When the newest mail to `email` was sent: None while unsent, False when there is none."""
    mail = newest_mail(database_url, email)
    return False if mail is None else mail["sent_at"]


# --- 4.7 / 4.8 the advisor ----------------------------------------------------------------------


def open_term(world: World) -> tuple[str, list[int]]:
    """A term of its own with two open sections of courses the goals name; its sections' ids.
    (A year past the run's own: no other check's sections are open in it.)"""
    term = f"{world.term_year + 1000 + world.unique()}-spring"
    ids = []
    for title, days in (("Databases", ["MON"]), ("Statistics", ["TUE"])):
        course = world.course(title=f"{title} {world.unique()}")
        ids.append(world.section(course_id=course["id"], term=term, days=days)["id"])
    return term, ids


def ask(account: Account, term: str) -> tuple[Reply, str]:
    """POST /advisor/plans; fail unless 202 with a Location. Return the reply and the plan's URL."""
    reply = account.client.post("/advisor/plans", {"term": term, "goals": GOALS})
    expect_status(reply, 202)
    location = reply.headers.get("Location")
    expect(bool(location), "a 202 says where to poll: a Location header", reply)
    base = account.client.base_url + API_PREFIX + "/advisor/plans"
    return reply, urljoin(base, location)


def wait_for_plan(account: Account, url: str) -> tuple[Reply, dict]:
    """GET the plan every POLL_INTERVAL until it is no longer pending (PLAN_TIMEOUT at most)."""
    deadline = time.monotonic() + PLAN_TIMEOUT
    while True:
        reply = account.client.send("GET", url)
        body = expect_json(reply, 200)
        expect(isinstance(body, dict), "a plan is an object", reply)
        status = body.get("status")
        expect(status in PLAN_STATUSES, f"status {status!r} is not pending|ready|failed", reply)
        if status != "pending":
            return reply, body
        expect(time.monotonic() < deadline, f"still pending after {PLAN_TIMEOUT} s", reply)
        time.sleep(POLL_INTERVAL)


def expect_plan_shape(reply: Reply, plan: dict, section_ids: list[int]) -> None:
    """A ready plan names the model, its tokens and latency, and suggests this term's sections;
    a failed one says why."""
    if plan["status"] == "failed":
        reasons = [key for key in plan if "reason" in key or key in ("detail", "error")]
        expect(any(plan[key] for key in reasons), "a failed plan must say why", reply)
        return
    expect(bool(plan.get("model")), 'a plan names its "model"', reply)
    expect(any("token" in key for key in plan), "a plan counts its tokens", reply)
    expect(any(key.startswith("latency") for key in plan), "a plan records its latency", reply)
    items = plan.get("plan")
    expect(isinstance(items, list) and bool(items), 'a ready plan lists sections in "plan"', reply)
    for item in items:
        expect(
            isinstance(item, dict) and "section_id" in item,
            "each suggestion names its section_id",
            reply,
        )
        expect(
            item["section_id"] in section_ids,
            f"section {item['section_id']} is not open in the term",
            reply,
        )


def ready_plan(world: World) -> tuple[Account, str, dict, list[int]]:
    """A verified student's ready plan for a term of open sections: the account, the plan's
    URL and body, and the term's section ids (fail if it cannot be made)."""
    world.require_admin()
    term, section_ids = open_term(world)
    account = world.account()
    _, url = ask(account, term)
    reply, plan = wait_for_plan(account, url)
    expect(plan["status"] == "ready", f"the offline advisor's plan failed: {plan}", reply)
    expect_plan_shape(reply, plan, section_ids)
    return account, url, plan, section_ids


@check("4.7", "a verified student's plan: 202 + Location, then ready (or failed, saying why)")
def advisor_plan(world: World) -> None:
    """Ask, poll the Location until the plan is made (PLAN_TIMEOUT), check its shape."""
    world.require_admin()
    term, section_ids = open_term(world)
    account = world.account()
    reply, url = ask(account, term)
    first = expect_json(reply, 202)
    expect(
        isinstance(first, dict) and first.get("status") in PLAN_STATUSES,
        "the 202 answers the plan with its status",
        reply,
    )
    expect(is_integer(first.get("id")), "the plan has an integer id", reply)
    reply, plan = wait_for_plan(account, url)
    expect_plan_shape(reply, plan, section_ids)


@check("4.7", "the advisor refuses an unverified student (403) and a bad body (422)")
def advisor_refusals(world: World) -> None:
    """Verification comes before the model's cost; the body is validated like any other."""
    unverified = world.account(verified=False)
    body = {"term": world.term(), "goals": GOALS}
    expect_problem(unverified.client.post("/advisor/plans", body), 403)
    account = world.account()
    reply = account.client.post("/advisor/plans", {"term": "someday", "goals": 5})
    expect_problem(reply, 422, "term", "goals")


@check("4.8", "accepting a plan enrolls by the usual rules, once: each section's result, then 409")
def accept_plan(world: World) -> None:
    """Accept a ready plan: 200 with a result for each suggested section, the student is in
    each of them (enrolling again is a 409); accepting again is a 409."""
    account, url, plan, _ = ready_plan(world)
    reply = account.client.send("POST", f"{url}/accept")
    body = expect_json(reply, 200)
    suggested = {item["section_id"] for item in plan["plan"]}
    results = {item["section_id"] for item in results_in(body)}
    missing = sorted(suggested - results)
    expect(not missing, f"no result for suggested section(s) {missing}", reply)
    for section_id in sorted(suggested):
        path = f"/sections/{section_id}/enrollments"
        reply = account.client.post(path, {"student_id": account.student_id})
        expect_problem(reply, 409)
    expect_problem(account.client.send("POST", f"{url}/accept"), 409)


def results_in(body) -> list[dict]:
    """Every object in `body` that names a section_id and what became of it."""
    found = []
    if isinstance(body, dict):
        if "section_id" in body and any(k in body for k in ("outcome", "status", "result")):
            found.append(body)
        values = body.values()
    elif isinstance(body, list):
        values = body
    else:
        return found
    for value in values:
        found.extend(results_in(value))
    return found


@check("4.8", "another student can neither read nor accept a plan (403 or 404)")
def plan_of_another(world: World) -> None:
    """Plans are their student's (and admins'): another student meets a 403 or a 404."""
    _, url, _, _ = ready_plan(world)
    other = world.account()
    for method, target in (("GET", url), ("POST", f"{url}/accept")):
        reply = other.client.send(method, target)
        expect_status(reply, 403, 404)
        expect_problem(reply, reply.status)
