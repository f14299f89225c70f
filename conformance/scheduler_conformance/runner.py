"""Running the checks of the chosen lessons, one after another, and what came of each."""

import traceback
from dataclasses import dataclass

from scheduler_conformance.checks import unit1, unit2, unit3, unit4  # noqa: F401  (importing registers)
from scheduler_conformance.http import Exchange, NoResponse, RunTimeLimitReached
from scheduler_conformance.lessons import (
    AVAILABLE_UNITS,
    LESSONS,
    NOT_CHECKED_OVER_HTTP,
    lesson_order,
    unit_of,
)
from scheduler_conformance.registry import CHECKS, Check, CheckFailed, CheckSkipped
from scheduler_conformance.world import World

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"
UNAVAILABLE = "not yet available"
OUTSIDE_HTTP = "not checked over HTTP"


@dataclass
class Outcome:
    """What one check found."""

    check: Check
    status: str
    message: str = ""
    exchange: Exchange | None = None
    seconds: float = 0.0


@dataclass
class LessonResult:
    """A lesson's line on the card: its checks' outcomes, or why there are none."""

    lesson: str
    outcomes: list[Outcome]
    available: bool = True

    @property
    def title(self) -> str:
        """The lesson's name."""
        return LESSONS[self.lesson]

    @property
    def outside_http(self) -> str | None:
        """Why HTTP cannot check this lesson, if it cannot."""
        return NOT_CHECKED_OVER_HTTP.get(self.lesson)

    @property
    def status(self) -> str:
        """Failed if any check failed; passed if any passed; else skipped (or unavailable, or
        not checkable over HTTP)."""
        if not self.available:
            return UNAVAILABLE
        if self.outside_http:
            return OUTSIDE_HTTP
        statuses = {outcome.status for outcome in self.outcomes}
        if FAILED in statuses:
            return FAILED
        return PASSED if PASSED in statuses else SKIPPED

    @property
    def first_failure(self) -> Outcome | None:
        """The failure a student should look at first."""
        return next((o for o in self.outcomes if o.status == FAILED), None)


def chosen_lessons(unit: int, lesson: str | None) -> list[str]:
    """The lessons to run: one, or every lesson of `unit` and the units before it."""
    if lesson is not None:
        return [lesson]
    return sorted((name for name in LESSONS if unit_of(name) <= unit), key=lesson_order)


def run_check(world: World, check: Check, clock) -> Outcome:
    """Run one check; any way it can end becomes an outcome, never an exception."""
    started = clock()
    try:
        check.run(world)
        outcome = Outcome(check, PASSED)
    except CheckFailed as failure:
        outcome = Outcome(check, FAILED, failure.message, failure.exchange)
    except CheckSkipped as skip:
        outcome = Outcome(check, SKIPPED, str(skip))
    except NoResponse as error:
        outcome = Outcome(check, FAILED, "the server did not answer", error.exchange)
    except RunTimeLimitReached as error:
        outcome = Outcome(check, FAILED, str(error))
    except Exception as error:  # a reply so odd that a check tripped over it: still a failure
        last = traceback.extract_tb(error.__traceback__)[-1]
        outcome = Outcome(
            check,
            FAILED,
            f"unexpected reply shape ({type(error).__name__}: {error} at line "
            f"{last.lineno} of {last.filename.rsplit('/', 1)[-1]})",
        )
    outcome.seconds = clock() - started
    return outcome


def run(world: World, lessons: list[str], clock, progress=None) -> list[LessonResult]:
    """Run every check of the lessons in order; report each outcome to `progress`."""
    results = []
    for lesson in lessons:
        if unit_of(lesson) not in AVAILABLE_UNITS:
            results.append(LessonResult(lesson, [], available=False))
            continue
        outcomes = []
        for check in (c for c in CHECKS if c.lesson == lesson):
            outcome = run_check(world, check, clock)
            outcomes.append(outcome)
            if progress:
                progress(outcome)
        results.append(LessonResult(lesson, outcomes))
    return results
