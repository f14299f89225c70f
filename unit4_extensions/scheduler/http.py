"""Request and response helpers shared by the blueprints: bodies, envelopes."""

from http import HTTPStatus

from flask import Response, jsonify, request, url_for
from werkzeug.exceptions import BadRequest as WerkzeugBadRequest
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType
from werkzeug.routing import BaseConverter

from scheduler.errors import BadRequest

# --8<-- [start:id-converter]
MAX_ID = 2**63 - 1  # ids are bigint: anything larger cannot exist, so it is a 404


class IdConverter(BaseConverter):
    """URL ids: 1 to 19 ASCII digits without a leading zero; anything else matches no route.

    The pattern alone decides, because Werkzeug checks a route's methods before its
    converters: a converter that refused a value would turn a 404 into a 405. An id past
    the bigint range still matches, and then simply finds nothing (404).
    """

    regex = r"[1-9][0-9]{0,18}"

    def to_python(self, value: str) -> int:
        """Turn the matched digits into an int."""
        return int(value)

    def to_url(self, value: int) -> str:
        """Write an id back into a URL."""
        return str(int(value))
        # --8<-- [end:id-converter]


# --8<-- [start:json-body]
def json_body() -> dict:
    """Return the request's JSON object, or fail with 415 (not JSON) or 400 (malformed)."""
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as JSON with Content-Type: application/json.")
    refuse_oversized_stream()
    try:
        body = request.get_json()
    except (WerkzeugBadRequest, RecursionError):  # RecursionError: absurdly deep nesting
        raise BadRequest("The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.")
    if not is_unicode(body):
        raise BadRequest(
            "The body is not valid JSON text: it holds a lone UTF-16 surrogate (such as "
            "\\ud800, or the bytes ED A0 80), which is not a character."
        )
    return body
    # --8<-- [end:json-body]


# --8<-- [start:body-limits]
def refuse_oversized_stream() -> None:
    """Fail with 413 when a body sent without Content-Length (chunked) is over the limit.

    Werkzeug checks a Content-Length against MAX_CONTENT_LENGTH up front, but a chunked
    body it merely stops reading at the limit, so the first 64 KiB would be parsed and
    applied as if they were all. One byte more from the server's stream tells them apart.
    """
    if request.content_length is not None or request.max_content_length is None:
        return
    body = request.get_data(cache=True)
    if len(body) >= request.max_content_length and request.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge(f"The body is larger than {request.max_content_length} bytes.")


def is_unicode(value) -> bool:
    """Whether every string in a parsed JSON value (keys too) is Unicode text.

    Python's JSON parser lets lone surrogates through, from a `\\ud800` escape or from
    raw bytes ED A0 80; they cannot be written as UTF-8, so the database would refuse them.
    """
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(is_unicode(key) and is_unicode(item) for key, item in value.items())
    if isinstance(value, list):
        return all(is_unicode(item) for item in value)
    return True
    # --8<-- [end:body-limits]


# --8<-- [start:no-content]
def without_content_type_on_no_content(response: Response) -> Response:
    """Drop the Content-Type Flask puts on every response from a 204, which has no body."""
    if response.status_code == HTTPStatus.NO_CONTENT:
        del response.headers["Content-Type"]
    return response
    # --8<-- [end:no-content]


# --8<-- [start:paging]
def page(items: list[dict], total: int, limit: int, offset: int) -> Response:
    """Answer a list request with the collection envelope."""
    return jsonify({"items": items, "total": total, "limit": limit, "offset": offset})
    # --8<-- [end:paging]


# --8<-- [start:created]
def created(item: dict, endpoint: str, **url_values) -> tuple[Response, int, dict]:
    """Answer a create request: 201, the new object and its Location."""
    return jsonify(item), 201, {"Location": url_for(endpoint, **url_values)}
    # --8<-- [end:created]
