"""A local OpenAI-compatible chat completions server for the advisor's tests, on a real port.

Each test scripts its replies, in order (a good answer, a slow one, a 429, a 500, text that is
not JSON...), and reads back the requests it got: their headers (names in lower case) and JSON
bodies. A slow reply holds its request until the test ends (or 10 s pass), so a client's
timeout always fires first.
"""

import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SLOW_REPLY_LIMIT = 10  # seconds a slow reply waits at most: no test can hang on it


@dataclass
class Reply:
    """One scripted reply: its status, headers and body, and whether it stalls."""

    status: int = 200
    body: dict | str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0  # seconds it is held back (cut short when the test ends)


def completion(content: str, *, prompt_tokens: int = 321, completion_tokens: int = 45) -> dict:
    """A chat completion whose one choice says `content`."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "fake-model-2026",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class FakeModelServer:
    """The server's script and what it received."""

    def __init__(self):
        self.replies: deque[Reply] = deque()
        self.requests: list[dict] = []
        self.release = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler_class())
        self.server.daemon_threads = True

    @property
    def base_url(self) -> str:
        """The API root to configure as ADVISOR_BASE_URL."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def answer(self, content: str, **usage) -> None:
        """Script a good reply whose message is `content` (JSON text, or not)."""
        self.replies.append(Reply(body=completion(content, **usage)))

    def answer_plan(self, *suggestions: tuple[int, str]) -> None:
        """Script a well-formed plan of (section_id, reason) pairs."""
        sections = [{"section_id": sid, "reason": reason} for sid, reason in suggestions]
        self.answer(json.dumps({"sections": sections}))

    def fail(self, status: int, times: int = 1, **headers: str) -> None:
        """Script `times` replies with this error status (and headers)."""
        body = {"error": {"message": f"scripted {status}", "type": "test"}}
        for _ in range(times):
            self.replies.append(Reply(status=status, body=body, headers=headers))

    def stall(self, times: int = 1, seconds: float = SLOW_REPLY_LIMIT) -> None:
        """Script `times` good replies held back `seconds` (by default: past any timeout)."""
        for _ in range(times):
            self.replies.append(Reply(delay=seconds, body=completion('{"sections": []}')))

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        """A request handler bound to this server's script."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                """Record the request and send the next scripted reply."""
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"null")
                fake.requests.append(
                    {
                        "path": self.path,
                        "headers": {name.lower(): value for name, value in self.headers.items()},
                        "json": body,
                    }
                )
                reply = fake.replies.popleft() if fake.replies else Reply(500, "unscripted")
                if reply.delay:
                    fake.release.wait(reply.delay)
                payload = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload.encode())))
                    for name, value in reply.headers.items():
                        self.send_header(name.replace("_", "-"), value)
                    self.end_headers()
                    self.wfile.write(payload.encode())
                except OSError:  # the client gave up on a slow reply and hung up
                    pass

            def log_message(self, *_args) -> None:
                """Keep the test output quiet."""

        return Handler


@contextmanager
def fake_model_server() -> Iterator[FakeModelServer]:
    """Serve a FakeModelServer in a thread for the block."""
    fake = FakeModelServer()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.release.set()
        fake.server.shutdown()
        fake.server.server_close()
        thread.join(timeout=SLOW_REPLY_LIMIT)
