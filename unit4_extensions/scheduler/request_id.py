"""Request ids: one per request, the client's `X-Request-ID` when it is sane, sent back on
every response, written into every log line of the request and quoted by a 500.

A client (or a proxy in front of us) that sends its own id can then find our log lines for
its request; a client that does not gets ours to quote when it reports a problem.
"""

import logging
import re
import uuid

from flask import Flask, Response, g, has_request_context, request
from flask.logging import default_handler, wsgi_errors_stream

# --8<-- [start:accept]
REQUEST_ID_HEADER = "X-Request-ID"
# Short, and only characters that are safe in a header, a log line and a URL: anything else
# a client sends is replaced, never refused, so a bad id cannot cost anyone their request.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def current_request_id() -> str:
    """The id of the request being handled: the client's, if sane, else a new one (chosen
    once, on first use, so the response, the logs and a 500's body all quote the same id)."""
    if "request_id" not in g:
        presented = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = presented if SANE_REQUEST_ID.fullmatch(presented) else uuid.uuid4().hex
    return g.request_id


def send_request_id(response: Response) -> Response:
    """Put the request's id on its response, whatever the status."""
    response.headers[REQUEST_ID_HEADER] = current_request_id()
    return response
    # --8<-- [end:accept]


# --8<-- [start:logging]
class RequestIdFilter(logging.Filter):
    """Give every log record a `request_id` ("-" outside a request), for the format to show."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Attach the id; never drop a record."""
        record.request_id = current_request_id() if has_request_context() else "-"
        return True


LOG_FORMAT = "[%(asctime)s] %(levelname)s [request %(request_id)s] %(name)s: %(message)s"

# Like Flask's own handler, it writes to the server's error stream (gunicorn's, in production);
# one handler for the process, however many apps are created in it (the tests create many).
log_handler = logging.StreamHandler(wsgi_errors_stream)
log_handler.addFilter(RequestIdFilter())
log_handler.setFormatter(logging.Formatter(LOG_FORMAT))


def init_request_ids(app: Flask) -> None:
    """Send the request id on every response, and log the app's lines with it."""
    app.after_request(send_request_id)
    # The app's logger ("scheduler") takes the records of every module logger below it,
    # such as scheduler.errors; Flask's default handler would write them without the id.
    app.logger.removeHandler(default_handler)
    app.logger.addHandler(log_handler)
    # --8<-- [end:logging]
