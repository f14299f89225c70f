"""A tiny in-memory scheduler for the suite's own tests: just enough of the contract to
enroll students into sections (with Unit 4's waitlist switchable on, and the rest of Unit 4
in fake_unit4.py) and serve Unit 3's document
and viewer, with switches that make it misbehave (no capacity check, a viewer from a CDN, an
answer the document forbids)."""

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count

from fake_unit4 import FakeUnit4, problem
from scheduler_conformance.checks.unit3 import CONTRACT, PUBLIC

COLLECTIONS = {"courses", "instructors", "rooms", "students", "sections"}
VIEWER = """<!doctype html><html><head><title>API</title>
<link rel="stylesheet" href="{style}"></head><body><div id="ui"></div>
<script src="{script}"></script></body></html>"""
CDN = "https://cdn.example.net/viewer"


def document(version: str) -> dict:
    """An OpenAPI document of the whole contract: any JSON answer, except that the health
    check's body is exactly {status, database}."""
    paths: dict[str, dict] = {}
    for method, path in CONTRACT:
        names = [f"p{n}" for n in range(path.count("{id}"))]
        template = path
        for name in names:
            template = template.replace("{id}", f"{{{name}}}", 1)
        item = paths.setdefault(template, {})
        if names:
            item["parameters"] = [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                for name in names
            ]
        item[method.lower()] = {
            "responses": {"default": {"description": "Any answer.", "content": ANY_JSON}},
            "security": [{}] if (method, path) in PUBLIC else [{"bearer": []}],
        }
    health = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"status": {"const": "ok"}, "database": {"const": "ok"}},
    }
    paths["/health"]["get"]["responses"] = {
        "200": {"description": "Up.", "content": {"application/json": {"schema": health}}}
    }
    return {
        "openapi": version,
        "info": {"title": "Fake scheduler", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


ANY_JSON = {"application/json": {}, "application/problem+json": {}}


class FakeScheduler:
    """The records, and the rules this fake keeps (or, to misbehave, does not)."""

    def __init__(
        self,
        *,
        enforce_capacity: bool = True,
        waitlist: bool = False,
        delay: float = 0.0,
        openapi_version: str = "3.1.0",
        viewer_from_cdn: bool = False,
        health_extra: bool = False,
        request_ids: bool = False,
        promote: bool = True,
        accept_twice: bool = False,
        plans_for_anyone: bool = False,
    ):
        self.enforce_capacity = enforce_capacity
        self.waitlist = waitlist  # Unit 4: a full section waitlists (201) instead of a 409
        self.delay = delay  # seconds every answer waits (to test the suite's timeouts)
        self.openapi_version = openapi_version
        self.viewer_from_cdn = viewer_from_cdn
        self.health_extra = health_extra  # a field the document does not allow
        self.request_ids = request_ids  # echo a sane X-Request-ID, else make one up
        self.records: dict[str, dict[int, dict]] = {name: {} for name in COLLECTIONS}
        self.enrolled: dict[int, list[int]] = {}
        self.waiting: dict[int, list[int]] = {}
        self.ids = count(1)
        self.lock = threading.Lock()
        self.unit4 = FakeUnit4(
            self, promote=promote, accept_twice=accept_twice, plans_for_anyone=plans_for_anyone
        )

    def handle(
        self, method: str, path: str, body, token: str | None = None
    ) -> tuple[int, dict | None, dict]:
        """Answer one request: (status, body, extra headers)."""
        time.sleep(self.delay)
        if answer := self.unit4.handle(method, path, body, token):
            return answer
        if path == "/api/v1/health" and method == "GET":
            extra = {"uptime": 1} if self.health_extra else {}
            return 200, {"status": "ok", "database": "ok", **extra}, {}
        if method == "GET" and path.startswith(("/api/v1/openapi.json", "/api/v1/docs")):
            return self.documentation(path)
        collection = re.fullmatch(r"/api/v1/(\w+)", path)
        if method == "POST" and collection and collection[1] in COLLECTIONS:
            return self.create(collection[1], body)
        section = re.fullmatch(r"/api/v1/sections/(\d+)(/enrollments)?", path)
        if section and int(section[1]) in self.records["sections"]:
            if method == "GET" and not section[2]:
                return 200, self.section(int(section[1])), {}
            if method == "POST" and section[2]:
                return self.enroll(int(section[1]), body["student_id"])
        return problem(404, "No such route or record.")

    def documentation(self, path: str) -> tuple[int, dict | bytes, dict]:
        """The OpenAPI document, the viewer's page, and the viewer's own files."""
        if path == "/api/v1/openapi.json":
            return 200, document(self.openapi_version), {}
        if path == "/api/v1/docs":
            base = CDN if self.viewer_from_cdn else "/api/v1/docs"
            page = VIEWER.format(style=f"{base}/viewer.css", script=f"{base}/viewer.js")
            return 200, page.encode(), {"Content-Type": "text/html; charset=utf-8"}
        if path in ("/api/v1/docs/viewer.js", "/api/v1/docs/viewer.css"):
            text = 'show("/api/v1/openapi.json");' if path.endswith(".js") else "body {}"
            return 200, text.encode(), {"Content-Type": "text/plain"}
        return problem(404, "No such file.")

    def create(self, collection: str, body: dict) -> tuple[int, dict, dict]:
        """Store a new record and answer it with its Location."""
        with self.lock:
            record_id = next(self.ids)
            self.records[collection][record_id] = {"id": record_id, **body}
            if collection == "sections":
                self.enrolled[record_id] = []
        answer = (
            self.section(record_id)
            if collection == "sections"
            else self.find(collection, record_id)
        )
        return 201, answer, {"Location": f"/api/v1/{collection}/{record_id}"}

    def find(self, collection: str, record_id: int) -> dict:
        """One stored record."""
        return self.records[collection][record_id]

    def section(self, section_id: int) -> dict:
        """A section with its relations embedded and its seats counted."""
        stored = self.find("sections", section_id)
        enrolled = len(self.enrolled[section_id])
        return {
            **{k: v for k, v in stored.items() if not k.endswith("_id")},
            "course": self.find("courses", stored["course_id"]),
            "instructor": self.find("instructors", stored["instructor_id"]),
            "room": self.find("rooms", stored["room_id"]),
            "enrolled": enrolled,
            "seats_left": stored["capacity"] - enrolled,
        }

    def enroll(self, section_id: int, student_id: int) -> tuple[int, dict, dict]:
        """Enroll once; refuse a full section (or waitlist, as Unit 4 does) only while the
        capacity check is on."""
        with self.lock:
            students = self.enrolled[section_id]
            waiting = self.waiting.setdefault(section_id, [])
            if student_id in students or student_id in waiting:
                return problem(409, "Already enrolled.")
            full = len(students) >= self.find("sections", section_id)["capacity"]
            if self.enforce_capacity and full and not self.waitlist:
                return problem(409, "The section is full.")
            if self.enforce_capacity and full:
                waiting.append(student_id)
                status, position = "waitlisted", len(waiting)
            else:
                students.append(student_id)
                status, position = "enrolled", None
        body = {
            "section_id": section_id,
            "student_id": student_id,
            "enrolled_at": "2030-01-01T00:00:00Z",
            "status": status,
            "position": position,
        }
        return 201, body, {}


def serve(fake: FakeScheduler) -> ThreadingHTTPServer:
    """Start the fake on a free port of 127.0.0.1, in a thread; the caller shuts it down."""

    class Handler(BaseHTTPRequestHandler):
        def answer(self) -> None:
            """Read the JSON body (if any), let the fake answer, write the reply."""
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
            status, body, headers = fake.handle(
                self.command, self.path, json.loads(raw) if raw else None, bearer or None
            )
            if isinstance(body, bytes):  # a page or a file, sent as it is
                payload = body
            else:
                payload = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            if fake.request_ids:
                sent = self.headers.get("X-Request-ID", "")
                sane = re.fullmatch(r"[A-Za-z0-9._-]{1,64}", sent)
                self.send_header("X-Request-ID", sent if sane else "fake-request-id")
            self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_DELETE = answer

        def log_message(self, *args) -> None:
            """Keep the test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
