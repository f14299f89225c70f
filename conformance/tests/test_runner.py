"""How the run ends each way a check can end, and how lessons add up."""

import time

import pytest
from scheduler_conformance import runner
from scheduler_conformance.checks import unit1
from scheduler_conformance.cli import main
from scheduler_conformance.lessons import NOT_CHECKED_OVER_HTTP
from scheduler_conformance.registry import CHECKS
from scheduler_conformance.runner import (
    FAILED,
    UNAVAILABLE,
    chosen_lessons,
    run,
    run_check,
)
from scheduler_conformance.world import last_token


def check_named(function):
    """The registered check that `function` runs."""
    return next(check for check in CHECKS if check.run is function)


def test_every_lesson_of_units_1_to_4_has_checks_or_says_why_not():
    """No lesson of the available units is left without a check, unless it is one that HTTP
    cannot see (and then it has no check at all)."""
    lessons = {check.lesson for check in CHECKS}
    every = {f"{unit}.{n}" for unit in (1, 2, 3) for n in range(1, 9)}
    every |= {f"4.{n}" for n in range(1, 11)}
    assert lessons == every - set(NOT_CHECKED_OVER_HTTP)
    assert set(NOT_CHECKED_OVER_HTTP) <= every


def test_a_unit_level_runs_every_earlier_lesson_too():
    """--unit 2 means 1.1 to 2.8, in order; --lesson means just that one."""
    assert chosen_lessons(2, None)[:2] == ["1.1", "1.2"]
    assert chosen_lessons(2, None)[-1] == "2.8"
    assert chosen_lessons(4, None)[-2:] == ["4.9", "4.10"]
    assert chosen_lessons(4, "1.6") == ["1.6"]


def test_later_units_are_listed_as_not_yet_available(fake_url, tmp_path, capsys, monkeypatch):
    """A lesson of a unit without checks yet (Unit 4, as it once was) is on the card,
    unchecked, and does not fail the run."""
    monkeypatch.setattr(runner, "AVAILABLE_UNITS", {1, 2, 3})
    with pytest.raises(SystemExit) as exit_info:
        main(["--base-url", fake_url(), "--lesson", "4.7", "--markdown", str(tmp_path / "r.md"),
              "--junit", str(tmp_path / "r.xml")])  # fmt: skip
    assert exit_info.value.code == 0
    assert "4.7 GenAI as a Backend Feature" in capsys.readouterr().out
    [result] = run(None, ["4.7"], time.monotonic)
    assert result.status == UNAVAILABLE
    assert "not yet available" in (tmp_path / "r.xml").read_text()


def test_a_server_too_slow_to_answer_fails_with_the_request(fake_url, world_for):
    """Every request has a timeout; the card says there was no answer."""
    world = world_for(fake_url(delay=1.0), request_timeout=0.2)
    outcome = run_check(world, check_named(unit1.health), time.monotonic)
    assert outcome.status == FAILED
    assert outcome.message == "the server did not answer"
    assert "no response: ReadTimeout" in outcome.exchange.render()


def test_nothing_is_sent_once_the_run_time_limit_is_reached(fake_url, world_for):
    """The whole run has a limit too."""
    world = world_for(fake_url(), run_limit=0.0)
    time.sleep(0.01)
    outcome = run_check(world, check_named(unit1.health), time.monotonic)
    assert outcome.status == FAILED
    assert "time limit" in outcome.message


def test_checks_needing_a_verification_token_skip_without_a_source(fake_url, world_for):
    """No --database-url and no --verify-command: skipped, with the reason."""
    world = world_for(fake_url())
    with pytest.raises(Exception, match="--database-url or --verify-command"):
        world.verification_token("someone@example.edu")


def test_the_verify_command_gets_the_email_quoted(fake_url, world_for):
    """{email} becomes one shell word, whatever it holds, and the printed token is read back."""
    address = "o'brien;touch pwned@example.edu"
    command = f"""[ {{email}} = "{address}" ] && printf 'Token:\\n%s\\n' abcdefghijklmnopqrstu"""
    world = world_for(fake_url(), verify_command=command)
    assert world.verification_token(address) == "abcdefghijklmnopqrstu"


def test_the_token_is_the_last_long_word_of_a_mail():
    """A mail body ends with the token, or holds it on a line of its own."""
    body = (
        "Confirm your address by sending this token to POST /api/v1/auth/verify:\n\n"
        "AbC_-123xyz0987654321\n\nIt works once, for 24 hours."
    )
    assert last_token(body, "a mail") == "AbC_-123xyz0987654321"


def test_an_unknown_lesson_is_a_usage_error():
    """argparse refuses it before any request."""
    with pytest.raises(SystemExit) as exit_info:
        main(["--base-url", "http://127.0.0.1:9", "--lesson", "9.9"])
    assert exit_info.value.code == 2


def test_list_names_every_check_under_its_lesson(capsys):
    """--list needs no server: a student reads what each lesson is checked for."""
    main(["--list", "--unit", "4"])
    listing = capsys.readouterr().out
    assert "1.7 Data Access Boundaries\n" in listing
    assert "  - concurrent enrollments never over-fill a section" in listing
    assert "3.4 Database in Tests\n  (not checked over HTTP: it teaches how" in listing
    assert "4.1 Intro to Docker: Why Containers Exist\n  (not checked over HTTP: it" in listing
    assert "  - a drop frees the seat to the one in line, in the background" in listing
