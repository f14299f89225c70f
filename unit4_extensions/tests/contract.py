"""The OpenAPI document as a test oracle: every response a test receives must match it.

`ContractClient` is the Flask test client the unit's tests use (see conftest.py): after each
request it validates the response (status, headers, content type, body) against the
operation the request addressed, so a response that breaks the document fails the very test
that received it. A request that addresses no documented operation (an unknown path, or a
method the path does not have) was answered by routing; that answer must still be a problem.
"""

import json

from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.templating.paths.exceptions import (
    OperationNotFound,
    PathNotFound,
    ServerNotFound,
)
from werkzeug.test import TestResponse

from scheduler.openapi import openapi_document

# openapi-core parses only plain JSON bodies by itself; problems are JSON too.
CONTRACT = OpenAPI.from_dict(
    openapi_document(),
    config=Config(extra_media_type_deserializers={"application/problem+json": json.loads}),
)
PROBLEM = Draft202012Validator(openapi_document()["components"]["schemas"]["Problem"])


class ContractViolation(AssertionError):
    """A response that the OpenAPI document does not allow."""


class AnsweredRequest(WerkzeugOpenAPIRequest):
    """The request a test response answers, as openapi-core needs it to find the operation.

    Its body was read by the app already and is not needed to check a response."""

    @property
    def body(self) -> None:
        """No body: the app has consumed the request's input stream."""
        return None


# --8<-- [start:check]
def check_response(response: TestResponse) -> None:
    """Fail unless the response is one the document allows for the request it answers."""
    try:
        CONTRACT.validate_response(
            AnsweredRequest(response.request), WerkzeugOpenAPIResponse(response)
        )
    except (ServerNotFound, PathNotFound, OperationNotFound):
        check_routing_problem(response)
    except Exception as error:  # openapi-core raises one of many error classes
        raise ContractViolation(describe(response, error)) from error


def check_routing_problem(response: TestResponse) -> None:
    """An answer from routing (no such path or method) must be a problem+json client error."""
    problems = [error.message for error in PROBLEM.iter_errors(response.get_json(silent=True))]
    if response.mimetype != "application/problem+json" or response.status_code < 400:
        problems.append(f"{response.status_code} {response.mimetype}, expected a problem")
    if problems:
        raise ContractViolation(describe(response, "; ".join(problems)))
        # --8<-- [end:check]


def describe(response: TestResponse, error) -> str:
    """Say which request got which response, and what the document says is wrong with it."""
    request = response.request
    causes = [str(error)]
    cause = getattr(error, "__cause__", None)
    while cause is not None:
        causes.append(str(cause))
        cause = cause.__cause__
    return (
        f"{request.method} {request.full_path.rstrip('?')} -> {response.status} "
        f"breaks the OpenAPI document: {' / '.join(causes)}\n"
        f"body: {response.get_data()[:500].decode(errors='replace')}"
    )


# --8<-- [start:client]
class ContractClient(FlaskClient):
    """A Flask test client that checks every response against the OpenAPI document."""

    def open(self, *args, **kwargs) -> TestResponse:
        """Send the request as usual, then validate its response."""
        response = super().open(*args, **kwargs)
        check_response(response)
        return response
        # --8<-- [end:client]
