"""The course advisor (lessons 4.7 and 4.8): a student asks for a plan for a term; the worker
asks a model, checks its answer against the database and stores everything; the student reads
the plan and may accept it, which enrolls them through the ordinary enrollment rules.

The model's answer is untrusted input, like a request body: it is parsed against a schema, and
every section it names is checked against the catalog and the student's timetable. What fails
a check is removed with the reason; what cannot be parsed makes the plan `failed`.
"""

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg import Connection

from scheduler.advisor_models import model_name
from scheduler.advisor_models.interface import ModelUnavailable, Provider
from scheduler.background import later
from scheduler.clock import utc_now
from scheduler.identity import Identity
from scheduler.repositories import advisor_plans
from scheduler.repositories.students import students
from scheduler.services.access import ensure_student_or_admin
from scheduler.services.advisor_answers import (
    MalformedAnswer,
    build_prompt,
    check_suggestions,
    parse_answer,
)
from scheduler.services.enrollment import enroll
from scheduler.services.errors import Conflict, DomainError, Forbidden, NotFound, TooManyRequests
from scheduler.unit_of_work import Database

QUOTA_WINDOW = timedelta(days=1)
# The prompt lists at most this many open sections: every one costs tokens, on every request.


@dataclass(frozen=True)
class AdvisorSettings:
    """The advisor's settings: which model, each student's quota, the global cap."""

    provider: str
    model: str
    plans_per_day: int
    concurrency: int
    clock: Callable[[], datetime] = utc_now

    @classmethod
    def from_config(cls, config: dict) -> "AdvisorSettings":
        """The advisor's settings from the app's config."""
        provider, model = model_name(config)
        return cls(
            provider=provider,
            model=model,
            plans_per_day=config["ADVISOR_PLANS_PER_DAY"],
            concurrency=config["ADVISOR_CONCURRENCY"],
            clock=config.get("CLOCK", utc_now),
        )


class AllSlotsBusy(Exception):
    """Every one of the global model slots is taken; the job waits and tries again."""


# --- asking ---------------------------------------------------------------------------------


# --8<-- [start:request-plan]
def request_plan(
    database: Database, actor: Identity, term: str, goals: str, settings: AdvisorSettings
) -> dict:
    """Record a pending plan for the student and defer the job that makes it, within the
    student's daily quota; the answer comes later, from GET."""
    if actor.student_id is None:
        raise Forbidden("Only a student asks the advisor, for their own plan.")
    if not actor.is_verified:
        raise Forbidden("Verify your email address before asking the advisor (POST /auth/verify).")
    with database.transaction() as conn:
        # The student's row lock: their concurrent requests count one after another, so
        # that no two of them both see the last plan of the quota as free.
        students.get(conn, actor.student_id, lock=True)
        check_quota(conn, actor.student_id, settings)
        plan = advisor_plans.create(
            conn,
            {
                "student_id": actor.student_id,
                "term": term,
                "goals": goals,
                "provider": settings.provider,
                "model": settings.model,
                "created_at": settings.clock(),
            },
        )
        later(conn, "generate_plan", plan_id=plan["id"])
        return plan
        # --8<-- [end:request-plan]


# --8<-- [start:quota]
def check_quota(conn: Connection, student_id: int, settings: AdvisorSettings) -> None:
    """Refuse (429, with when to come back) a student who has had their plans for the day."""
    now = settings.clock()
    recent = advisor_plans.made_since(conn, student_id, now - QUOTA_WINDOW)
    if recent["made"] >= settings.plans_per_day:
        wait = recent["oldest"] + QUOTA_WINDOW - now
        raise TooManyRequests(
            f"You have asked for {recent['made']} plans in the last 24 hours, the most there "
            "is. Try again later.",
            retry_after=max(1, math.ceil(wait.total_seconds())),
        )
        # --8<-- [end:quota]


def get_plan(database: Database, actor: Identity, plan_id: int) -> dict:
    """A plan, for its student and admins."""
    with database.connection() as conn:
        plan = advisor_plans.get(conn, plan_id)
    if plan is None:
        raise NotFound(f"No advisor plan with id {plan_id}.")
    ensure_student_or_admin(actor, plan["student_id"])
    return plan


# --- making the plan (the worker) -------------------------------------------------------------


# --8<-- [start:generate]
def generate_plan(database: Database, provider: Provider, concurrency: int, plan_id: int) -> str:
    """Make a pending plan: ask the model within the global cap, check its answer, store all
    of it; return the plan's status. A plan already made is left alone (a job may run twice)."""
    with database.connection() as conn:
        plan = advisor_plans.get(conn, plan_id)
    if plan is None or plan["status"] != "pending":
        return "gone" if plan is None else plan["status"]
    with model_slot(database, concurrency):
        with database.transaction() as conn:
            prompt = build_prompt(conn, plan)
        # No transaction or lock is held while the model thinks: that may take many seconds.
        started = time.monotonic()
        try:
            answer = provider.complete(prompt)
        except ModelUnavailable as error:
            outcome = {"prompt": prompt.messages, "latency_ms": elapsed(started)}
            return finish(database, plan, outcome, failure=error.reason)
    outcome = {
        "prompt": prompt.messages,
        "model": answer.model,
        # PostgreSQL text cannot hold NUL; whatever else the model wrote is kept as it came.
        "response": answer.text.replace("\x00", "\N{REPLACEMENT CHARACTER}"),
        "prompt_tokens": answer.prompt_tokens,
        "completion_tokens": answer.completion_tokens,
        "latency_ms": elapsed(started),
    }
    try:
        suggestions = parse_answer(answer.text)
    except MalformedAnswer as error:
        return finish(database, plan, outcome, failure=error.reason)
    return finish(database, plan, outcome, suggestions=suggestions)
    # --8<-- [end:generate]


def elapsed(started: float) -> int:
    """Whole milliseconds since `started` (a time.monotonic reading)."""
    return round((time.monotonic() - started) * 1000)


def finish(
    database: Database,
    plan: dict,
    outcome: dict,
    *,
    failure: str | None = None,
    suggestions: list[dict] | None = None,
) -> str:
    """Store the outcome (prompt, response, tokens, latency): failed with its reason, or ready
    with the suggestions that pass the checks against the database as it is now. Return the
    plan's status."""
    with database.transaction() as conn:
        current = advisor_plans.get(conn, plan["id"], lock=True)
        if current is None or current["status"] != "pending":  # another run finished it
            return "gone" if current is None else current["status"]
        if failure is not None:
            advisor_plans.finish_failed(conn, plan["id"], failure, outcome)
            return "failed"
        kept, removed = check_suggestions(conn, plan, suggestions)
        advisor_plans.finish_ready(conn, plan["id"], {**outcome, "plan": kept, "removed": removed})
        return "ready"


# --8<-- [start:slot]
@contextmanager
def model_slot(database: Database, concurrency: int) -> Iterator[None]:
    """Hold one of the `concurrency` slots that every worker process shares while the block
    runs, or raise AllSlotsBusy. A slot is a PostgreSQL advisory lock held by a connection:
    if the worker dies, the server lets go of it with the connection."""
    with database.connection() as conn:
        for slot in range(concurrency):
            if advisor_plans.try_take_slot(conn, slot):
                try:
                    yield
                finally:
                    advisor_plans.free_slot(conn, slot)
                return
    raise AllSlotsBusy(f"All {concurrency} advisor slots are busy.")
    # --8<-- [end:slot]


# --- accepting ----------------------------------------------------------------------------


# --8<-- [start:accept]
def accept_plan(database: Database, actor: Identity, plan_id: int) -> dict:
    """Enroll the plan's student in its sections, each through the enrollment service (every
    rule applies, and a refusal of one stops none of the others); return the plan with what
    happened to each section. A plan is accepted once, and only when ready."""
    with database.transaction() as conn:
        plan = advisor_plans.get(conn, plan_id, lock=True)
        if plan is None:
            raise NotFound(f"No advisor plan with id {plan_id}.")
        ensure_student_or_admin(actor, plan["student_id"])
        if plan["status"] != "ready":
            raise Conflict(f"The plan is {plan['status']}: only a ready plan can be accepted.")
        if plan["accepted_at"] is not None:
            raise Conflict("The plan has been accepted already.")
        advisor_plans.mark_accepted(conn, plan_id)
    results = []
    for item in plan["plan"]:
        try:
            enrolled = enroll(database, actor, item["section_id"], plan["student_id"])
        except DomainError as refused:
            results.append(
                {"section_id": item["section_id"], "outcome": "refused", "detail": refused.detail}
            )
            continue
        detail = None
        if enrolled["status"] == "waitlisted":  # it filled up since the plan was made
            detail = f"The section is full: you are number {enrolled['position']} in line."
        results.append(
            {"section_id": item["section_id"], "outcome": enrolled["status"], "detail": detail}
        )
    with database.transaction() as conn:
        advisor_plans.record_acceptance(conn, plan_id, results)
        return advisor_plans.get(conn, plan_id)
        # --8<-- [end:accept]
