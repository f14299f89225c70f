"""Against a server that over-fills sections, the card names the lesson and the request."""

import time
from xml.etree import ElementTree

import pytest
from scheduler_conformance.checks import unit1
from scheduler_conformance.cli import main
from scheduler_conformance.registry import CHECKS
from scheduler_conformance.runner import FAILED, PASSED, run_check


def check_named(function) -> object:
    """The registered check that `function` runs."""
    return next(check for check in CHECKS if check.run is function)


@pytest.mark.parametrize(("enforce_capacity", "status"), [(True, PASSED), (False, FAILED)])
def test_the_overfill_race_fails_only_without_a_capacity_check(
    fake_url, world_for, enforce_capacity, status
):
    """The race check passes against a fake that keeps capacity, and fails once it does not."""
    world = world_for(fake_url(enforce_capacity=enforce_capacity))
    outcome = run_check(world, check_named(unit1.concurrent_overfill), time.monotonic)
    assert outcome.status == status, outcome.message
    if status == FAILED:
        assert "8 racing for 2 seats" in outcome.message
        assert outcome.exchange.method == "POST"
        assert outcome.exchange.url.endswith("/enrollments")
        assert outcome.exchange.status == 201  # the seat too many


@pytest.mark.parametrize(
    ("unit", "waitlist", "status"),
    [(4, True, PASSED), (4, False, FAILED), (2, True, FAILED), (4, None, FAILED)],
)
def test_the_overfill_race_at_unit_4_wants_the_losers_waitlisted_in_order(
    fake_url, world_for, unit, waitlist, status
):
    """From Unit 4 on the race's losers are waitlisted (201) at positions 1..n, and a 409 is
    wrong; before it a waitlist is wrong; a server that over-fills (None) fails at any level."""
    options = {"enforce_capacity": False} if waitlist is None else {"waitlist": waitlist}
    world = world_for(fake_url(**options), unit=unit)
    outcome = run_check(world, check_named(unit1.concurrent_overfill), time.monotonic)
    assert outcome.status == status, outcome.message


def test_card_names_the_failing_lesson_and_shows_the_request(fake_url, tmp_path, capsys):
    """The terminal card, the Markdown and the JUnit XML all point at the over-filling POST."""
    markdown, junit = tmp_path / "card.md", tmp_path / "card.xml"
    base_url = fake_url(enforce_capacity=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["--base-url", base_url, "--unit", "3", "--lesson", "1.7", "--markdown",
              str(markdown), "--junit", str(junit)])  # fmt: skip
    assert exit_info.value.code == 1
    card = capsys.readouterr().out
    assert "1.7 Data Access Boundaries" in card.splitlines()[2]
    assert "FAILED" in card.splitlines()[2]
    failure = card[card.index("── 1.7") :]
    assert "no enrolling twice, into a full section or a missing one" in failure
    assert "expected 409, got 201" in failure
    assert f"> POST {base_url}/api/v1/sections/" in failure
    assert '> {"student_id": ' in failure
    assert "< 201 " in failure
    assert "expected 409, got 201" in markdown.read_text()
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite.get("name") == "1.7 Data Access Boundaries"
    failed = [case.get("name") for case in suite if case.find("failure") is not None]
    assert "concurrent enrollments never over-fill a section" in failed
