"""Request and response helpers shared by the blueprints: bodies, envelopes."""

from flask import Response, jsonify, request, url_for
from werkzeug.exceptions import BadRequest as WerkzeugBadRequest
from werkzeug.exceptions import UnsupportedMediaType
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
    try:
        body = request.get_json()
    except (WerkzeugBadRequest, RecursionError):  # RecursionError: absurdly deep nesting
        raise BadRequest("The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.")
    return body
    # --8<-- [end:json-body]


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
