"""What connections really send the server, read from libpq's protocol trace: every
statement, including the BEGIN, COMMIT and empty health checks that psycopg and the pool
send without going through `Cursor.execute`. Tests count round trips per request with it."""

import os
import re
from pathlib import Path

import psycopg
from psycopg import pq

# One frontend message a line: F, its length, its type, then its fields (SQL may span lines).
MESSAGE = re.compile(r"^F\t\d+\t(\w+)\t?(.*?)(?=^[FB]\t\d+\t|\Z)", re.MULTILINE | re.DOTALL)
QUERY_TEXT = re.compile(r' "(.*)"\n?', re.DOTALL)
PARSE_TEXT = re.compile(r' "[^"]*" "(.*)" \d+[ \w]*\n?', re.DOTALL)


class WireTrace:
    """The statements a set of connections sent, one file of libpq trace per connection."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.files: dict[Path, int] = {}  # trace file -> where the unread part starts
        self.traced: list[tuple[psycopg.Connection, int]] = []

    def trace(self, conn: psycopg.Connection) -> None:
        """Start tracing a connection (a pool's `configure` hook) into a file of its own."""
        path = self.folder / f"connection-{len(self.files)}.trace"
        # libpq writes through a FILE of its own on this descriptor; O_APPEND keeps its
        # writes at the end whatever we read.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        conn.pgconn.trace(descriptor)
        conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        self.files[path] = 0
        self.traced.append((conn, descriptor))

    def clear(self) -> None:
        """Forget what was sent so far."""
        self.files = {path: path.stat().st_size for path in self.files}

    def statements(self) -> list[str]:
        """The SQL of each statement sent since `clear()`: a simple query, or an extended-
        protocol exchange ended by Sync ("" for an empty query, the pool's health check).
        libpq flushes its trace whenever it sends, so every frontend message is on file."""
        statements = []
        for path, start in self.files.items():
            with path.open(encoding="utf-8", errors="replace") as trace:
                trace.seek(start)
                statements += parse(trace.read())
        return statements

    def close(self) -> None:
        """Stop tracing the connections still open and close the trace files."""
        for conn, descriptor in self.traced:
            if not conn.closed:
                conn.pgconn.untrace()
            os.close(descriptor)


def parse(trace: str) -> list[str]:
    """The statements in a stretch of trace, in the order they were sent."""
    statements, parsed = [], "(a prepared statement)"
    for kind, fields in MESSAGE.findall(trace):
        if kind == "Query":
            statements.append(QUERY_TEXT.fullmatch(fields)[1])
        elif kind == "Parse":
            parsed = PARSE_TEXT.fullmatch(fields)[1]
        elif kind == "Sync":
            statements.append(parsed)
            parsed = "(a prepared statement)"
    return statements
