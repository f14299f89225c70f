"""Unit 3's checks against fakes that keep, or break, the document and its viewer; and the
lessons that HTTP cannot check, on the card with their reason."""

import time
from xml.etree import ElementTree

import pytest
from scheduler_conformance.checks import unit3
from scheduler_conformance.cli import main
from scheduler_conformance.registry import CHECKS
from scheduler_conformance.runner import FAILED, PASSED, run_check


def outcome_of(world, function):
    """Run the registered check that `function` is, against `world`."""
    registered = next(check for check in CHECKS if check.run is function)
    return run_check(world, registered, time.monotonic)


@pytest.mark.parametrize(("version", "status"), [("3.1.0", PASSED), ("3.0.3", FAILED)])
def test_the_document_must_be_openapi_3_1(fake_url, world_for, version, status):
    """A 3.0 document is refused with its version named; a 3.1 one passes."""
    outcome = outcome_of(world_for(fake_url(openapi_version=version)), unit3.openapi_valid)
    assert outcome.status == status, outcome.message
    if status == FAILED:
        assert outcome.message == "\"openapi\" is '3.0.3', not 3.1.x"
        assert outcome.exchange.url.endswith("/api/v1/openapi.json")


def test_an_invalid_document_is_refused_with_what_is_wrong(fake_url, world_for):
    """Not a version string the validator knows: openapi-spec-validator's complaint is shown."""
    outcome = outcome_of(world_for(fake_url(openapi_version="3.1.x")), unit3.openapi_valid)
    assert outcome.status == FAILED
    assert outcome.message.startswith("not valid OpenAPI 3.1: at openapi:")


def test_the_whole_contract_and_its_security_are_documented(fake_url, world_for):
    """The fake documents every operation, public ones without a token."""
    world = world_for(fake_url())
    for function in (unit3.openapi_complete, unit3.openapi_security):
        outcome = outcome_of(world, function)
        assert outcome.status == PASSED, outcome.message


@pytest.mark.parametrize(("health_extra", "status"), [(False, PASSED), (True, FAILED)])
def test_an_answer_the_document_forbids_fails_with_that_answer(
    fake_url, world_for, health_extra, status
):
    """A field the health schema does not allow, in a reply an earlier check received."""
    world = world_for(fake_url(health_extra=health_extra))
    world.anonymous.get("/health")
    outcome = outcome_of(world, unit3.openapi_matches_replies)
    assert outcome.status == status, outcome.message
    if status == FAILED:
        assert "GET /api/v1/health: the body: Additional properties" in outcome.message
        assert "'uptime' was unexpected" in outcome.message
        assert outcome.exchange.url.endswith("/api/v1/health")


@pytest.mark.parametrize(("request_ids", "status"), [(True, PASSED), (False, FAILED)])
def test_every_answer_needs_a_request_id(fake_url, world_for, request_ids, status):
    """A server that sends no X-Request-ID fails both request-id checks, saying so."""
    world = world_for(fake_url(request_ids=request_ids))
    for function in (unit3.request_ids, unit3.unsafe_request_id):
        outcome = outcome_of(world, function)
        assert outcome.status == status, outcome.message
        if status == FAILED:
            assert outcome.message == "the answer has no X-Request-ID"


@pytest.mark.parametrize(("from_cdn", "status"), [(False, PASSED), (True, FAILED)])
def test_a_viewer_from_a_cdn_fails(fake_url, world_for, from_cdn, status):
    """The viewer's page may load only what its own server serves."""
    outcome = outcome_of(world_for(fake_url(viewer_from_cdn=from_cdn)), unit3.docs_viewer)
    assert outcome.status == status, outcome.message
    if status == FAILED:
        assert "loads https://cdn.example.net/viewer/viewer.css from another origin" in (
            outcome.message
        )


def test_card_names_lesson_3_6_and_shows_the_page_that_loads_a_cdn(fake_url, tmp_path, capsys):
    """The card, the Markdown and the JUnit XML all point at GET /docs and its CDN link."""
    markdown, junit = tmp_path / "card.md", tmp_path / "card.xml"
    base_url = fake_url(viewer_from_cdn=True)
    with pytest.raises(SystemExit) as exit_info:
        main(["--base-url", base_url, "--lesson", "3.6", "--markdown", str(markdown),
              "--junit", str(junit)])  # fmt: skip
    assert exit_info.value.code == 1
    card = capsys.readouterr().out
    assert "3.6 API Documentation That Helps" in card.splitlines()[2]
    assert "FAILED   4/5 checks passed" in card.splitlines()[2]
    failure = card[card.index("── 3.6") :]
    assert "GET /docs is an interactive viewer that loads nothing from another origin" in failure
    assert f"> GET {base_url}/api/v1/docs" in failure
    assert '< <link rel="stylesheet" href="https://cdn.example.net/viewer/viewer.css">' in failure
    assert "from another origin" in markdown.read_text()
    [suite] = ElementTree.parse(junit).getroot()
    failed = [case.get("name") for case in suite if case.find("failure") is not None]
    assert failed == ["GET /docs is an interactive viewer that loads nothing from another origin"]


def test_a_lesson_http_cannot_check_is_on_the_card_with_its_reason(fake_url, tmp_path, capsys):
    """3.7 reviews the code: not checked, never failed, and the reason is in every report."""
    markdown, junit = tmp_path / "card.md", tmp_path / "card.xml"
    with pytest.raises(SystemExit) as exit_info:
        main(["--base-url", fake_url(), "--lesson", "3.7", "--markdown", str(markdown),
              "--junit", str(junit)])  # fmt: skip
    assert exit_info.value.code == 0
    card = capsys.readouterr().out
    assert "3.7 Project Readability Review" in card and "not checked over HTTP" in card
    assert "which a linter sees and HTTP does not" in card
    assert "which a linter sees and HTTP does not" in markdown.read_text()
    skipped = ElementTree.parse(junit).getroot().find("testsuite/testcase/skipped")
    assert skipped.get("message").startswith("not checked over HTTP: it teaches reviewing")
