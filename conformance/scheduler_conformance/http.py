"""The suite's only way to reach a server: HTTP requests with a timeout each, under the
run's time limit, every one recorded so that a failure can show it in full."""

import json
import threading
import time
from dataclasses import dataclass, field

import requests

API_PREFIX = "/api/v1"
SHOWN_BODY_CHARS = 4000  # a 4 MB body is not "shown in full" usefully; its start is
# The journal keeps this many replies at most, and none whose request body was larger than
# JOURNAL_BODY_BYTES (the 413 probes): enough to check a run's answers against the OpenAPI
# document without holding megabytes of padding.
JOURNAL_REPLIES = 5000
JOURNAL_BODY_BYTES = 64 * 1024


class RunTimeLimitReached(Exception):
    """The whole run's time limit is spent: no further request is sent."""


@dataclass
class Exchange:
    """One request and the response to it (or why there was none), as sent and received."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: bytes | None
    status: int | None = None
    reason: str = ""
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    error: str | None = None

    def render(self) -> str:
        """The exchange as a student would read it in a terminal: request, then response."""
        lines = [f"> {self.method} {self.url}"]
        lines += [f"> {name}: {value}" for name, value in self.request_headers.items()]
        if self.request_body:
            lines.append(">")
            lines += [f"> {line}" for line in shown(self.request_body).splitlines()]
        if self.error:
            lines.append(f"< (no response: {self.error})")
            return "\n".join(lines)
        lines.append(f"< {self.status} {self.reason}")
        lines += [f"< {name}: {value}" for name, value in self.response_headers.items()]
        if self.response_body:
            lines.append("<")
            lines += [f"< {line}" for line in shown(self.response_body).splitlines()]
        return "\n".join(lines)


def shown(body: bytes) -> str:
    """A body as text, cut after SHOWN_BODY_CHARS characters with a note of what is left out."""
    text = body.decode("utf-8", errors="replace")
    if len(text) <= SHOWN_BODY_CHARS:
        return text
    return f"{text[:SHOWN_BODY_CHARS]}\n… ({len(text) - SHOWN_BODY_CHARS} more characters)"


@dataclass
class Reply:
    """A response, with the exchange that produced it."""

    status: int
    headers: requests.structures.CaseInsensitiveDict
    body: bytes
    exchange: Exchange

    @property
    def json(self):
        """The body parsed as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def media_type(self) -> str:
        """The Content-Type without its parameters, lower-cased."""
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()


class Deadline:
    """The moment the whole run must end, shared by every client of the run."""

    def __init__(self, seconds: float):
        self.ends_at = time.monotonic() + seconds
        self.seconds = seconds

    def check(self) -> None:
        """Refuse to start anything once the time is up."""
        if time.monotonic() > self.ends_at:
            raise RunTimeLimitReached(f"The run's time limit of {self.seconds:g} s is reached.")


class Journal:
    """Every reply of the run that the later checks may look at again (lesson 3.6 validates
    them against the server's OpenAPI document), shared by every client of the run."""

    def __init__(self):
        self.replies: list[Reply] = []
        self.lock = threading.Lock()

    def record(self, reply: Reply) -> None:
        """Keep the reply, unless the journal is full or its request was a padded probe."""
        if len(reply.exchange.request_body or b"") > JOURNAL_BODY_BYTES:
            return
        with self.lock:
            if len(self.replies) < JOURNAL_REPLIES:
                self.replies.append(reply)

    def snapshot(self) -> list[Reply]:
        """The replies recorded so far."""
        with self.lock:
            return list(self.replies)


class Client:
    """Requests to one API, optionally with a Bearer token; records every reply in the run's
    journal."""

    def __init__(
        self,
        base_url: str,
        timeout: float,
        deadline: Deadline,
        token: str | None = None,
        journal: Journal | None = None,
    ):
        self.base_url = base_url
        self.timeout = timeout
        self.deadline = deadline
        self.token = token
        self.journal = journal if journal is not None else Journal()
        self.local = threading.local()  # a requests.Session per thread: they are not shared

    def with_token(self, token: str | None) -> "Client":
        """A client for the same API that sends this token (None: anonymous)."""
        return Client(self.base_url, self.timeout, self.deadline, token, self.journal)

    @property
    def session(self) -> requests.Session:
        """This thread's connection pool."""
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body=None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict | None = None,
    ) -> Reply:
        """Send one request to `path` under the API prefix and return the reply."""
        url = self.base_url + API_PREFIX + path
        return self.send(
            method, url, json_body=json_body, data=data, headers=headers, params=params
        )

    def send(
        self,
        method: str,
        url: str,
        *,
        json_body=None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict | None = None,
    ) -> Reply:
        """Send one request to a full URL (a page's own asset, say) and return the reply."""
        self.deadline.check()
        sent_headers = {"Accept": "application/json, application/problem+json"}
        if self.token is not None:
            sent_headers["Authorization"] = f"Bearer {self.token}"
        if json_body is not None:
            data = json.dumps(json_body).encode()
            sent_headers["Content-Type"] = "application/json"
        sent_headers.update(headers or {})
        prepared = requests.Request(
            method,
            url,
            headers=sent_headers,
            data=data,
            params=params,
        ).prepare()
        exchange = Exchange(method, prepared.url, dict(prepared.headers), prepared.body)
        try:
            response = self.session.send(prepared, timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as error:
            exchange.error = f"{type(error).__name__}: {error}"
            raise NoResponse(exchange) from None
        exchange.status = response.status_code
        exchange.reason = response.reason or ""
        exchange.response_headers = dict(response.headers)
        exchange.response_body = response.content
        reply = Reply(response.status_code, response.headers, response.content, exchange)
        self.journal.record(reply)
        return reply

    def get(self, path: str, **options) -> Reply:
        """GET `path`."""
        return self.request("GET", path, **options)

    def post(self, path: str, body=None, **options) -> Reply:
        """POST a JSON body to `path`."""
        return self.request("POST", path, json_body=body, **options)

    def patch(self, path: str, body=None, **options) -> Reply:
        """PATCH `path` with a JSON body."""
        return self.request("PATCH", path, json_body=body, **options)

    def delete(self, path: str, **options) -> Reply:
        """DELETE `path`."""
        return self.request("DELETE", path, **options)


class NoResponse(Exception):
    """The server did not answer (refused, reset, timed out)."""

    def __init__(self, exchange: Exchange):
        super().__init__(exchange.error)
        self.exchange = exchange
