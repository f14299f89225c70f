"""Clients for the system tests: one JSON request with a client timeout, the app's 503
problem recognised, and threads keeping the API busy while a test breaks something."""

import json
import threading
import time
import urllib.error
import urllib.request

# Above DB_POOL_TIMEOUT plus a refused connect (immediate on this machine), so a client
# timeout means the server hung, not that the test was impatient.
CLIENT_TIMEOUT = 15


def call(
    url: str, method: str = "GET", body: dict | None = None, token: str | None = None
) -> tuple[int, dict[str, str], dict]:
    """One request with a client timeout; its status, headers and JSON answer."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=CLIENT_TIMEOUT) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"{}")


def is_unavailable(status: int, headers: dict[str, str]) -> bool:
    """Whether an answer is the app's 503 problem, with Retry-After."""
    return (
        status == 503
        and headers.get("Content-Type") == "application/problem+json"
        and int(headers.get("Retry-After", "0")) > 0
    )


class Load:
    """Threads sending a read and an authenticated read, over and over, until stopped; each
    answer (or the client's error) is kept with when it came."""

    def __init__(self, base_url: str, token: str, threads: int = 3):
        """Start `threads` senders."""
        self.urls = [(f"{base_url}/health", None), (f"{base_url}/sections", token)]
        self.stopped = threading.Event()
        self.answers: list[tuple[float, int, dict[str, str]]] = []
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self.send, daemon=True) for _ in range(threads)]
        for thread in self.threads:
            thread.start()

    def send(self) -> None:
        """Send requests until stopped."""
        while not self.stopped.is_set():
            for url, token in self.urls:
                try:
                    status, headers, _ = call(url, token=token)
                    self.answers.append((time.monotonic(), status, headers))
                except Exception as error:  # a timeout or a reset is what this test looks for
                    self.errors.append(error)

    def stop(self) -> None:
        """Stop the senders and wait for them (each has at most one request in flight)."""
        self.stopped.set()
        for thread in self.threads:
            thread.join(CLIENT_TIMEOUT + 5)
