"""The contract check itself (contract.py): a response that breaks the document fails the test
that received it, so the document cannot silently drift from what the API answers."""

import pytest
from contract import ContractClient, ContractViolation
from flask import Flask

from scheduler.errors import TooManyRequests
from scheduler.repositories import courses


def test_a_documented_response_passes(client):
    response = client.get("/api/v1/courses/1")

    assert response.status_code == 404


def test_a_body_that_breaks_its_schema_fails(client, monkeypatch):
    monkeypatch.setattr(courses.courses, "get", lambda _conn, course_id: {"id": course_id})

    with pytest.raises(ContractViolation, match="GET /api/v1/courses/7 -> 200"):
        client.get("/api/v1/courses/7")


def test_an_undocumented_status_fails(client, monkeypatch):
    def throttled(*args):
        raise TooManyRequests("Slow down.", retry_after=1)

    monkeypatch.setattr(courses.courses, "page", throttled)

    with pytest.raises(ContractViolation, match="429"):
        client.get("/api/v1/courses")


def test_a_missing_required_header_fails(client, monkeypatch):
    monkeypatch.setattr("scheduler.routes.courses.created", lambda item, *_a, **_kw: (item, 201))

    with pytest.raises(ContractViolation, match="Location"):
        client.post("/api/v1/courses", json={"code": "CS101", "title": "Intro", "credits": 3})


def test_an_unknown_route_must_still_answer_a_problem(anonymous_client):
    assert anonymous_client.get("/api/v1/no-such-thing").status_code == 404
    assert anonymous_client.put("/api/v1/courses").status_code == 405


def test_an_undocumented_route_that_answers_anything_else_fails():
    stray = Flask(__name__)
    stray.add_url_rule("/api/v1/stray", "stray", lambda: "not a problem")
    stray.test_client_class = ContractClient

    with pytest.raises(ContractViolation, match="expected a problem"):
        stray.test_client().get("/api/v1/stray")
