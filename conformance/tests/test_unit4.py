"""Unit 4's checks against fakes that keep, or break, the promotion in the background and the
advisor's flow; and the lessons that HTTP cannot check, on the card with their reason."""

import time

import pytest
from fake_unit4 import ADMIN_EMAIL, ADMIN_PASSWORD, VERIFY_COMMAND, FakeUnit4
from scheduler_conformance.checks import journeys, unit4
from scheduler_conformance.cli import main
from scheduler_conformance.registry import CHECKS
from scheduler_conformance.runner import FAILED, PASSED, SKIPPED, run_check

ACCOUNTS = {
    "unit": 4,
    "admin_email": ADMIN_EMAIL,
    "admin_password": ADMIN_PASSWORD,
    "verify_command": VERIFY_COMMAND,
}
ADVISOR_CHECKS = (unit4.advisor_plan, unit4.advisor_refusals, unit4.accept_plan)


def outcome_of(world, function):
    """Run the registered check that `function` is, against `world`."""
    registered = next(check for check in CHECKS if check.run is function)
    return run_check(world, registered, time.monotonic)


@pytest.fixture
def short_waits(monkeypatch):
    """Background work the fake never does fails in a second, not in half a minute."""
    monkeypatch.setattr(journeys, "PROMOTION_TIMEOUT", 1)
    monkeypatch.setattr(unit4, "PLAN_TIMEOUT", 2)


@pytest.mark.parametrize(("promote", "status"), [(True, PASSED), (False, FAILED)])
def test_a_drop_must_promote_the_one_in_line(fake_url, world_for, short_waits, promote, status):
    """The seat goes to the one waiting, in the background; without it the seat stays free."""
    world = world_for(fake_url(waitlist=True, promote=promote), unit=4)
    outcome = outcome_of(world, unit4.promotion_in_background)
    assert outcome.status == status, outcome.message
    if status == FAILED:
        assert outcome.message == "expected 1 enrolled and 0 seats left"
        assert "/api/v1/sections/" in outcome.exchange.url


def test_the_advisor_flow_passes_against_a_correct_fake(fake_url, world_for, short_waits):
    """202 + Location, a ready plan of the term's sections, refusals, one acceptance."""
    world = world_for(fake_url(waitlist=True), **ACCOUNTS)
    for function in (*ADVISOR_CHECKS, unit4.plan_of_another):
        outcome = outcome_of(world, function)
        assert outcome.status == PASSED, (function.__name__, outcome.message)


def test_a_plan_accepted_twice_fails_with_the_second_acceptance(fake_url, world_for):
    """Accepting again must be a 409: a second 200 is named, with its request."""
    world = world_for(fake_url(waitlist=True, accept_twice=True), **ACCOUNTS)
    outcome = outcome_of(world, unit4.accept_plan)
    assert outcome.status == FAILED
    assert outcome.message == "expected 409, got 200"
    assert outcome.exchange.method == "POST"
    assert outcome.exchange.url.endswith("/accept")


def test_another_students_plan_must_be_refused(fake_url, world_for):
    """A plan that any student may read fails 4.8 with that read."""
    world = world_for(fake_url(waitlist=True, plans_for_anyone=True), **ACCOUNTS)
    outcome = outcome_of(world, unit4.plan_of_another)
    assert outcome.status == FAILED
    assert outcome.message == "expected 403 or 404, got 200"
    assert outcome.exchange.method == "GET"


def test_a_plan_that_never_gets_made_fails_within_the_bound(
    fake_url, world_for, short_waits, monkeypatch
):
    """A pending plan the worker never makes: the check gives up after PLAN_TIMEOUT."""
    monkeypatch.setattr(FakeUnit4, "later", lambda self, work: None)
    world = world_for(fake_url(waitlist=True), **ACCOUNTS)
    started = time.monotonic()
    outcome = outcome_of(world, unit4.advisor_plan)
    assert outcome.status == FAILED
    assert outcome.message == "still pending after 2 s"
    assert 2 <= time.monotonic() - started < 4  # the bound, and not much more


def test_the_outbox_check_needs_the_database(fake_url, world_for):
    """Without --database-url the delivery check says what it needs, and does not fail."""
    outcome = outcome_of(world_for(fake_url(), **ACCOUNTS), unit4.outbox_delivered)
    assert outcome.status == SKIPPED
    assert outcome.message == "needs --database-url to read the outbox"


def test_card_names_lesson_4_9_when_the_promotion_never_comes(
    fake_url, short_waits, tmp_path, capsys
):
    """The card's failing lesson is 4.9, with the section that still has its seat free."""
    base_url = fake_url(waitlist=True, promote=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["--base-url", base_url, "--unit", "4", "--lesson", "4.9", "--markdown",
              str(tmp_path / "card.md"), "--junit", str(tmp_path / "card.xml")])  # fmt: skip
    assert exit_info.value.code == 1
    card = capsys.readouterr().out
    assert "4.9 Background Work" in card and "FAILED" in card
    failure = card[card.index("── 4.9") :]
    assert "a drop frees the seat to the one in line, in the background" in failure
    assert "expected 1 enrolled and 0 seats left" in failure


def test_lessons_http_cannot_see_are_on_the_card_with_their_reason(fake_url, capsys, tmp_path):
    """4.6 (external sign-in) and 4.10 (system tests) say why, and never fail the run."""
    for lesson, reason in (("4.6", "OpenID Connect provider"), ("4.10", "system tests")):
        with pytest.raises(SystemExit) as exit_info:
            main(["--base-url", fake_url(), "--lesson", lesson, "--markdown",
                  str(tmp_path / "c.md"), "--junit", str(tmp_path / "c.xml")])  # fmt: skip
        assert exit_info.value.code == 0
        card = capsys.readouterr().out
        assert "not checked over HTTP" in card and reason in card
