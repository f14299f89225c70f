"""Unit 3 (lessons 3.1–3.8): the riskiest paths under contention, the auth flows as a matrix,
the error paths of every route, the OpenAPI document and its viewer, and whole journeys.

Lessons 3.2, 3.4 and 3.7 teach how the server's own code and tests are written, which HTTP
cannot see: `lessons.NOT_CHECKED_OVER_HTTP` says so on the card."""

import secrets
import time

from scheduler_conformance import openapi, tokens
from scheduler_conformance.checks import all_at_once, odd_one_out, statuses
from scheduler_conformance.checks.journeys import admin_journey, student_journey
from scheduler_conformance.checks.unit1 import COLLECTIONS, TOO_LARGE_BYTES
from scheduler_conformance.http import API_PREFIX
from scheduler_conformance.registry import (
    CheckSkipped,
    check,
    expect,
    expect_envelope,
    expect_json,
    expect_problem,
    expect_status,
)
from scheduler_conformance.viewer import expect_self_contained_viewer
from scheduler_conformance.world import World

REQUEST_ID = "X-Request-ID"
# Ids that are not ids: zero, a word, a fraction, a negative number, past any integer type.
NOT_IDS = ("0", "abc", "1.5", "-1", "99999999999999999999")
# Every operation of the contract in DESIGN.md, with {id} for any path parameter.
CONTRACT = [
    ("GET", "/health"),
    *(
        ("POST", f"/auth/{action}")
        for action in ("register", "verify", "login", "refresh", "logout", "resend-verification")
    ),
    ("GET", "/auth/me"),
    *(
        (method, path)
        for collection in COLLECTIONS
        for method, path in (
            ("GET", collection),
            ("POST", collection),
            ("GET", f"{collection}/{{id}}"),
            ("PATCH", f"{collection}/{{id}}"),
            ("DELETE", f"{collection}/{{id}}"),
        )
    ),
    ("POST", "/sections/{id}/enrollments"),
    ("GET", "/sections/{id}/enrollments"),
    ("DELETE", "/sections/{id}/enrollments/{id}"),
    ("GET", "/students/{id}/schedule"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
]
# The operations anybody may call (catalog reads, the health check, the auth entry points and
# the documentation); every other one needs a token, and its document must say so.
PUBLIC = {
    ("GET", "/health"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    *((m, p) for m, p in CONTRACT if p.startswith("/auth/") and p != "/auth/me"),
    *(
        ("GET", path)
        for collection in ("/courses", "/instructors", "/rooms", "/sections")
        for path in (collection, f"{collection}/{{id}}")
    ),
}


def sample_url(world: World, path: str) -> str:
    """A URL the contract's path addresses, with 1 for every id."""
    return world.settings.base_url + API_PREFIX + path.replace("{id}", "1")


def fetch_document(world: World) -> dict:
    """GET /openapi.json: fail unless it is a JSON object naming its OpenAPI version."""
    reply = world.anonymous.get("/openapi.json")
    document = expect_json(reply, 200)
    expect(isinstance(document, dict), "the document is not a JSON object", reply)
    expect("openapi" in document, 'the document lacks "openapi": its version', reply)
    return document


# --- 3.1 What to Test First ----------------------------------------------------------------
# The lesson ranks enrollment under contention first; 1.7 races for seats, rooms and clashes,
# and these are the two races of that path it does not run.
@check("3.1", "one student racing past the 18-credit limit gets exactly 18 credits")
def concurrent_credit_limit(world: World) -> None:
    """Four 6-credit sections at different times, enrolled into at once: three fit."""
    student = world.student()
    sections = [
        world.section(course_id=world.course(credits=6)["id"], days=[day])
        for day in ("MON", "TUE", "WED", "THU")
    ]
    writer, body = world.writer, {"student_id": student["id"]}
    replies = all_at_once(
        [(lambda s=s: writer.post(f"/sections/{s['id']}/enrollments", body)) for s in sections]
    )
    got = statuses(replies)
    wanted = [201, 201, 201, 409]
    expect(got == wanted, f"expected {wanted}, got {got}", odd_one_out(replies, 3))
    reply = world.writer.get(f"/students/{student['id']}/schedule")
    expect(expect_envelope(reply)["total"] == 3, "the schedule holds more than 18 credits", reply)


@check("3.1", "one student racing into one section twice is enrolled once")
def concurrent_duplicate(world: World) -> None:
    """The same enrollment sent many times at once: one 201, the rest 409."""
    section, student = world.section(), world.student()
    path, writer = f"/sections/{section['id']}/enrollments", world.writer
    racers = world.settings.concurrency
    replies = all_at_once(
        [(lambda: writer.post(path, {"student_id": student["id"]})) for _ in range(racers)]
    )
    got, wanted = statuses(replies), [201] + [409] * (racers - 1)
    expect(got == wanted, f"expected {wanted}, got {got}", odd_one_out(replies, 1))
    reply = world.writer.get(path)
    expect(expect_envelope(reply)["total"] == 1, "the roster lists the student twice", reply)


# --- 3.3 Testing Auth Flows ----------------------------------------------------------------
@check("3.3", "a 401 says how to authenticate: WWW-Authenticate: Bearer")
def www_authenticate(world: World) -> None:
    """No token, a forged token, a write without a token: each 401 names the Bearer scheme."""
    forged = tokens.forged({"alg": "HS256", "typ": "JWT"}, {"sub": "1", "iat": 1, "exp": 2})
    for reply in (
        world.anonymous.get("/auth/me"),
        world.anonymous.with_token(forged).get("/auth/me"),
        world.anonymous.post("/courses", {"code": world.course_code(), "title": "T", "credits": 3}),
    ):
        expect_problem(reply, 401)
        challenge = reply.headers.get("WWW-Authenticate", "")
        expect(challenge.lower().startswith("bearer"), "a 401 needs WWW-Authenticate", reply)


def matrix_rows(world: World, owner, other_section: dict) -> list[tuple]:
    """The authorization matrix: (method, path, body, the status of each allowed actor, the
    path whose GET must read the same after every refused cell). An actor not named is
    refused, 401 when anonymous, else 403; None means the cell is not tried (an admin may
    enroll the student too, but the owner's 201 already used the seat)."""
    section, room = owner.section, owner.room
    me = f"/students/{owner.account.student_id}"
    throwaway = world.course()
    return [
        ("GET", "/courses", None, {"*": 200}, None),
        ("GET", f"/sections/{section['id']}", None, {"*": 200}, None),
        ("GET", f"/rooms/{room['id']}", None, {"*": 200}, None),
        ("POST", "/courses", "course", {"admin": 201}, "/courses"),
        ("PATCH", f"/rooms/{room['id']}", {"capacity": room["capacity"]}, {"admin": 200}, None),
        (
            "DELETE",
            f"/courses/{throwaway['id']}",
            None,
            {"admin": 204},
            f"/courses/{throwaway['id']}",
        ),
        ("GET", "/students", None, {"admin": 200}, None),
        ("GET", me, None, {"owner": 200, "admin": 200}, None),
        ("PATCH", me, {"full_name": owner.name}, {"owner": 200, "admin": 200}, me),
        ("GET", f"{me}/schedule", None, {"owner": 200, "admin": 200}, None),
        ("GET", f"/sections/{section['id']}/enrollments", None, {"admin": 200}, None),
        (
            "POST",
            f"/sections/{other_section['id']}/enrollments",
            {"student_id": owner.account.student_id},
            {"owner": 201, "admin": None},
            f"/sections/{other_section['id']}",
        ),
        (
            "DELETE",
            f"/sections/{section['id']}/enrollments/{owner.account.student_id}",
            None,
            {"owner": 204, "admin": None},
            f"/sections/{section['id']}",
        ),
    ]


class Owner:
    """The matrix's student: a verified account enrolled in a section of a room."""

    def __init__(self, world: World):
        self.account = world.account()
        self.room = world.room()
        self.section = world.section(room_id=self.room["id"])
        path = f"/sections/{self.section['id']}/enrollments"
        expect_status(world.writer.post(path, {"student_id": self.account.student_id}), 201)
        record = world.writer.get(f"/students/{self.account.student_id}")
        self.name = expect_json(record, 200).get("full_name")


@check("3.3", "the authorization matrix: each route × anonymous, unverified, owner, other, admin")
def authorization_matrix(world: World) -> None:
    """Every cell answers its status: allowed callers succeed, the others get 401 (no token)
    or 403 as problems, and a refused request changes nothing."""
    admin = world.require_admin()
    owner = Owner(world)
    actors = {
        "anonymous": world.anonymous,
        "unverified": world.account(verified=False).client,
        "other": world.account().client,
        "owner": owner.account.client,
        "admin": admin.client,
    }
    for method, path, body, allowed, probe in matrix_rows(
        world, owner, world.section(days=["FRI"])
    ):
        before = world.writer.get(probe) if probe else None
        for actor in sorted(actors, key=lambda name: name in allowed):  # the allowed ones last
            if actor in allowed and allowed[actor] is None:
                continue
            if body == "course":
                sent = {"code": world.course_code(), "title": "Matrix", "credits": 3}
            else:
                sent = body
            reply = actors[actor].request(method, path, json_body=sent)
            status = allowed.get(actor, allowed.get("*"))
            if status is not None:
                expect(
                    reply.status == status, f"{actor}: expected {status}, got {reply.status}", reply
                )
                continue
            expect_problem(reply, 401 if actor == "anonymous" else 403)
            if before is not None:
                after = world.writer.get(probe)
                expect(
                    after.status == before.status and after.json == before.json,
                    f"{method} {path} refused to {actor}, and still changed {probe}",
                    after,
                )


def signed_attack(world: World, craft) -> None:
    """Present a token signed with --secret-key and changed by `craft`: /auth/me must answer
    401, after the same token unchanged is accepted (which proves the key right)."""
    key = world.settings.secret_key
    if not key:
        raise CheckSkipped("needs --secret-key to sign a token the server would otherwise accept")
    account = world.account(verified=False)
    decoded = tokens.parts(account.tokens["access_token"])
    if decoded is None:
        raise CheckSkipped("the access token is not a JWT")
    header, claims, _ = decoded
    now = int(time.time())
    claims = {**claims, "iat": now - 5, "exp": now + 300}
    reply = account.client.with_token(tokens.sign(header, claims, key)).get("/auth/me")
    expect(reply.status == 200, "a token signed with --secret-key is refused: wrong key?", reply)
    for bad in craft(header, claims, key):
        expect_problem(account.client.with_token(bad).get("/auth/me"), 401)


@check("3.3", "a signed token without exp, iat or sub is a 401 (needs --secret-key)")
def missing_claims(world: World) -> None:
    """The claims are required, not merely checked when present."""
    signed_attack(
        world,
        lambda header, claims, key: [
            tokens.sign(header, {k: v for k, v in claims.items() if k != name}, key)
            for name in ("exp", "iat", "sub")
        ],
    )


@check("3.3", "a token signed under another algorithm is a 401 (needs --secret-key)")
def pinned_algorithm(world: World) -> None:
    """The right key with another HMAC algorithm: the algorithm is pinned, not read from the
    token's header."""
    signed_attack(
        world,
        lambda header, claims, key: [
            tokens.sign({**header, "alg": alg}, claims, key)
            for alg in tokens.SIGNERS
            if alg != header.get("alg")
        ],
    )


@check("3.3", "reusing a refresh token revokes its own family, not the account's other sessions")
def reuse_revokes_one_family(world: World) -> None:
    """Two logins of one account: replaying the first session's old refresh token ends that
    session, and the second still refreshes."""
    account = world.account(verified=False)
    other = expect_json(world.login(account.email), 200)
    first = account.tokens["refresh_token"]
    expect_json(world.anonymous.post("/auth/refresh", {"refresh_token": first}), 200)
    expect_problem(world.anonymous.post("/auth/refresh", {"refresh_token": first}), 401)
    reply = world.anonymous.post("/auth/refresh", {"refresh_token": other["refresh_token"]})
    expect(reply.status == 200, "the reuse also revoked another session's tokens", reply)


# --- 3.5 Error Paths Are Features ----------------------------------------------------------
@check("3.5", "every answer carries an X-Request-ID, the client's own when it sends one")
def request_ids(world: World) -> None:
    """A success and an error both carry an id; an id the client sends comes back."""
    reply = world.anonymous.get("/health")
    expect(reply.headers.get(REQUEST_ID, "").strip(), f"the answer has no {REQUEST_ID}", reply)
    for path in ("/courses", f"/courses/{world.unique()}abc"):
        sent = f"conformance-{secrets.token_hex(6)}"
        reply = world.anonymous.get(path, headers={REQUEST_ID: sent})
        expect(reply.headers.get(REQUEST_ID) == sent, f"the {REQUEST_ID} sent is not echoed", reply)


@check("3.5", "an unsafe X-Request-ID is replaced, never refused")
def unsafe_request_id(world: World) -> None:
    """Markup and a very long id are not echoed into headers and logs, and cost nobody
    their request."""
    for sent in ("<script>alert(1)</script>", "x" * 500):
        reply = world.anonymous.get("/health", headers={REQUEST_ID: sent})
        expect_json(reply, 200)
        echoed = reply.headers.get(REQUEST_ID, "")
        expect(echoed.strip(), f"the answer has no {REQUEST_ID}", reply)
        expect(echoed != sent, "the unsafe id came back as it was", reply)


@check("3.5", "every route with an id answers a 404 problem for ids that are not ids")
def not_ids_everywhere(world: World) -> None:
    """Zero, a word, a fraction, a negative number and twenty digits, on every method of
    every item route, nested ones too."""
    section, student = world.section(), world.student()
    bodies = {
        "/courses": {"title": "Nobody"},
        "/instructors": {"full_name": "Nobody"},
        "/rooms": {"capacity": 5},
        "/students": {"full_name": "Nobody"},
        "/sections": {"capacity": 5},
    }
    for bad in NOT_IDS:
        attempts = [
            *(
                (method, f"{path}/{bad}", bodies[path])
                for path in COLLECTIONS
                for method in ("GET", "PATCH", "DELETE")
            ),
            ("GET", f"/sections/{bad}/enrollments", None),
            ("POST", f"/sections/{bad}/enrollments", {"student_id": student["id"]}),
            ("DELETE", f"/sections/{section['id']}/enrollments/{bad}", None),
            ("GET", f"/students/{bad}/schedule", None),
        ]
        for method, path, body in attempts:
            expect_problem(world.writer.request(method, path, json_body=body), 404)


def body_routes(world: World) -> list[tuple[str, str]]:
    """Every route of the contract that takes a body, with real ids."""
    section = world.section()
    items = {
        "/courses": section["course"]["id"],
        "/instructors": section["instructor"]["id"],
        "/rooms": section["room"]["id"],
        "/students": world.student()["id"],
        "/sections": section["id"],
    }
    return [
        *(("POST", path) for path in COLLECTIONS),
        *(("PATCH", f"{path}/{items[path]}") for path in COLLECTIONS),
        ("POST", f"/sections/{section['id']}/enrollments"),
        *(
            ("POST", f"/auth/{action}")
            for action in (
                "register",
                "verify",
                "login",
                "refresh",
                "logout",
                "resend-verification",
            )
        ),
    ]


@check("3.5", "every route with a body refuses a bad one: 400, 415 and 413 problems")
def bad_bodies_everywhere(world: World) -> None:
    """Broken JSON and JSON that is not an object (400), a body that is not JSON (415) and
    one far too large (413), on every route that takes a body."""
    json_type = {"Content-Type": "application/json"}
    padding = b'{"x": "' + b"x" * TOO_LARGE_BYTES + b'"}'
    for method, path in body_routes(world):
        for data, headers, status in (
            (b'{"title": "broken', json_type, 400),
            (b"[1, 2, 3]", json_type, 400),
            (b'{"title": "plain"}', {"Content-Type": "text/plain"}, 415),
            (padding, json_type, 413),
        ):
            reply = world.writer.request(method, path, data=data, headers=headers)
            expect_problem(reply, status)


@check("3.5", "every route answers a 405 problem with Allow for a method it does not have")
def method_not_allowed_everywhere(world: World) -> None:
    """PUT is no method of the contract: every route refuses it and lists what it has."""
    section, student = world.section(), world.student()
    routes: dict[str, set[str]] = {}
    for method, path in CONTRACT:
        routes.setdefault(path, set()).add(method)
    for template, methods in routes.items():
        path = template.replace("{id}", str(section["id"]), 1).replace("{id}", str(student["id"]))
        reply = world.writer.request("PUT", path, json_body={})
        expect_problem(reply, 405)
        allowed = {m.strip().upper() for m in reply.headers.get("Allow", "").split(",")}
        missing = sorted(methods - allowed)
        expect(not missing, f"Allow should list {', '.join(missing)} too", reply)


@check("3.5", "a refused write changes nothing: no half-applied patch, no extra row")
def failures_lose_nothing(world: World) -> None:
    """A PATCH with one bad field applies none of its fields; a refused create or enrollment
    leaves the lists as they were."""
    course = world.course(credits=3)
    reply = world.writer.patch(f"/courses/{course['id']}", {"title": "Half done", "credits": 99})
    expect_problem(reply, 422, "credits")
    reply = world.writer.get(f"/courses/{course['id']}")
    expect(expect_json(reply, 200) == course, "the refused PATCH changed the course", reply)
    section = world.section(capacity=1)
    reply = world.writer.patch(
        f"/sections/{section['id']}", {"starts_at": "07:00", "ends_at": "06:00"}
    )
    expect_status(reply, 422)
    reply = world.writer.get(f"/sections/{section['id']}")
    expect(expect_json(reply, 200) == section, "the refused PATCH changed the section", reply)
    path = f"/sections/{section['id']}/enrollments"
    student = world.student()
    expect_status(world.writer.post(path, {"student_id": student["id"]}), 201)
    # The same student again: refused at every unit (a second student would be waitlisted
    # from Unit 4 on, which is no refusal).
    expect_problem(world.writer.post(path, {"student_id": student["id"]}), 409)
    reply = world.writer.get(path)
    expect(expect_envelope(reply)["total"] == 1, "the refused enrollment is on the roster", reply)
    clash = world.section_body(room_id=section["room"]["id"])
    expect_problem(world.writer.post("/sections", clash), 409)
    reply = world.anonymous.get("/sections", params={"room_id": section["room"]["id"]})
    expect(expect_envelope(reply)["total"] == 1, "the refused section was stored", reply)


# --- 3.6 API Documentation That Helps ------------------------------------------------------
@check("3.6", "GET /openapi.json answers a valid OpenAPI 3.1 document")
def openapi_valid(world: World) -> None:
    """JSON, version 3.1, and valid against the OpenAPI 3.1 schema."""
    reply = world.anonymous.get("/openapi.json")
    document = fetch_document(world)
    version = str(document["openapi"])
    expect(version.startswith("3.1."), f'"openapi" is {version!r}, not 3.1.x', reply)
    errors = openapi.spec_errors(document)
    expect(not errors, "not valid OpenAPI 3.1: " + "; ".join(errors), reply)


@check("3.6", "every operation of the contract is documented")
def openapi_complete(world: World) -> None:
    """Each method and path of the design appears in the document (under its servers' path)."""
    reply = world.anonymous.get("/openapi.json")
    document = fetch_document(world)
    missing = [
        f"{method} {path}"
        for method, path in CONTRACT
        if openapi.find_operation(document, method, sample_url(world, path)) is None
    ]
    expect(not missing, f"the document lacks {', '.join(missing)}", reply)


@check("3.6", "the document says which operations need a token, and which do not")
def openapi_security(world: World) -> None:
    """Protected operations require a declared security scheme; public ones allow none."""
    reply = world.anonymous.get("/openapi.json")
    document = fetch_document(world)
    schemes = set((document.get("components") or {}).get("securitySchemes") or {})
    wrong = []
    for method, path in CONTRACT:
        operation = openapi.find_operation(document, method, sample_url(world, path))
        if operation is None:
            continue  # the completeness check names it
        required = operation.node.get("security", document.get("security", []))
        anonymous = not required or {} in required
        named = {name for requirement in required for name in requirement}
        if named - schemes:
            wrong.append(f"{method} {path} names undeclared schemes {sorted(named - schemes)}")
        elif ((method, path) in PUBLIC) != anonymous:
            need = "needs no token" if (method, path) in PUBLIC else "needs a token"
            wrong.append(f"{method} {path} {need}")
    expect(not wrong, "the security requirements are wrong: " + "; ".join(wrong), reply)


@check("3.6", "every answer of the run matches the document: status, media type, body")
def openapi_matches_replies(world: World) -> None:
    """The replies every earlier check received, and a short tour of its own, each against
    the operation it answers (a reply from routing, to no documented operation, is not)."""
    document = fetch_document(world)
    section = world.section()
    world.anonymous.get("/sections", params={"course_id": section["course"]["id"]})
    world.anonymous.get(f"/sections/{section['id']}")
    world.writer.get(f"/sections/{section['id']}/enrollments")
    world.writer.post("/courses", {"code": world.course_code(), "title": "", "credits": 0})
    world.writer.get(f"/rooms/{world.unique()}9999999")
    checked, broken = 0, []
    for reply in world.journal.snapshot():
        operation = openapi.find_operation(document, reply.exchange.method, reply.exchange.url)
        if operation is None:
            continue
        checked += 1
        body = reply.json if reply.body.strip() else None
        problems = openapi.response_problems(
            document, operation, reply.status, reply.media_type, body
        )
        if problems:
            broken.append((reply, f"{operation.method} {operation.template}: {problems[0]}"))
    if broken:
        reply, first = broken[0]
        expect(
            False, f"{len(broken)} of {checked} answers break the document; first, {first}", reply
        )


@check("3.6", "GET /docs is an interactive viewer that loads nothing from another origin")
def docs_viewer(world: World) -> None:
    """An HTML page whose scripts and styles all come from the server itself and load, and
    that shows the API's document."""
    expect_self_contained_viewer(world)


# --- 3.8 End-to-End Confidence Check -------------------------------------------------------
@check("3.8", "a student's whole journey: register, verify, log in, enroll, drop, refresh, log out")
def student_flow(world: World) -> None:
    """One session from the first request to the last, each step checked by what the next
    request shows."""
    student_journey(world)


@check("3.8", "an admin's whole journey: publish a section, fill it, free a seat, reschedule")
def admin_flow(world: World) -> None:
    """The catalog side, with the refusals that keep it consistent."""
    admin_journey(world)
