"""The OpenAPI document (lesson 3.6): valid, complete, and in step with the app.

The document is hand-written, so these tests are what keep it honest: every route of the
URL map is documented with the right methods and no more, each operation's security matches
who may really call it, and every failure a route can answer is listed. (Every response of
every other test is also checked against it: see contract.py.)
"""

import re

import pytest
from openapi_spec_validator import validate
from test_authorization import API, ROUTES

from scheduler.openapi import openapi_document

DOCUMENT = openapi_document()
METHODS = {"get", "put", "post", "patch", "delete"}
OPERATIONS = [
    (method.upper(), path, operation)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
    if method in METHODS
]


def documented_path(rule: str) -> str:
    """A Flask rule as an OpenAPI path: `/api/v1/courses/<id:course_id>` → `/courses/{course_id}`
    (the document's server is `/api/v1`, so its paths start after it)."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.removeprefix(API))


# Operations that some authenticated callers may not use (a role or ownership rule): a 403.
RESTRICTED = {(route.method, documented_path(route.rule)) for route in ROUTES if route.denied}


def operation_id(operation) -> str:
    """An operation's name, for test ids."""
    return f"{operation[0]} {operation[1]}"


def test_the_document_is_valid_openapi_3_1():
    validate(DOCUMENT)
    assert DOCUMENT["openapi"].startswith("3.1.")


# --8<-- [start:drift]
def test_every_route_is_documented_and_every_documented_operation_exists(app):
    served = {
        (method, documented_path(rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"  # Flask's own; the app has no static folder, so it is a 404
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(method, path) for method, path, _ in OPERATIONS}

    assert served - documented == set(), "routes missing from the document"
    assert documented - served == set(), "documented operations the app does not serve"


def test_each_operation_says_exactly_who_may_call_it():
    public = {(route.method, documented_path(route.rule)) for route in ROUTES if route.public}

    for method, path, operation in OPERATIONS:
        security = operation["security"]
        assert {"bearerAuth": []} in security, (method, path)
        # `{}` in the list means "no credentials needed" (a token, if sent, is still checked).
        assert ({} in security) == ((method, path) in public), (method, path)
        # --8<-- [end:drift]


@pytest.mark.parametrize("operation", OPERATIONS, ids=operation_id)
def test_each_operation_lists_the_failures_every_request_can_meet(operation):
    method, path, spec = operation
    statuses = set(spec["responses"])

    # A bad token is a 401 anywhere; the database can fail anywhere; anything can go wrong.
    assert {"401", "500", "503"} <= statuses
    if "requestBody" in spec:
        assert {"400", "413", "415", "422"} <= statuses
    if "{" in path:  # no such record, or no such file
        assert "404" in statuses
    if (method, path) in RESTRICTED:
        assert "403" in statuses


@pytest.mark.parametrize("operation", OPERATIONS, ids=operation_id)
def test_each_operation_is_named_summarised_and_answers_with_a_documented_success(operation):
    spec = operation[2]

    assert spec["operationId"]
    assert spec["summary"]
    assert spec["tags"]
    assert any(status.startswith("2") for status in spec["responses"])


@pytest.mark.parametrize(
    "operation", [op for op in OPERATIONS if "requestBody" in op[2]], ids=operation_id
)
def test_each_request_body_is_json_with_a_schema_and_an_example(operation):
    content = operation[2]["requestBody"]["content"]

    assert list(content) == ["application/json"]
    assert "schema" in content["application/json"]
    assert "example" in content["application/json"]


def test_operation_ids_are_unique():
    ids = [operation["operationId"] for _, _, operation in OPERATIONS]

    assert len(ids) == len(set(ids))


def test_the_served_document_is_the_shipped_one(anonymous_client):
    response = anonymous_client.get(f"{API}/openapi.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == DOCUMENT
    assert list(response.get_json()["paths"]) == list(DOCUMENT["paths"])  # as written, not sorted
