"""Unit 2 (lessons 2.1–2.8): accounts, tokens, protected routes, ownership, verification,
validation, SQL safety and the business rules."""

import time

from scheduler_conformance import tokens
from scheduler_conformance.registry import (
    CheckSkipped,
    check,
    expect,
    expect_envelope,
    expect_json,
    expect_keys,
    expect_problem,
    expect_status,
)
from scheduler_conformance.world import PASSWORD, World

USER_KEYS = {"id", "email", "role", "is_verified", "student_id", "instructor_id"}
TOKEN_KEYS = {"access_token", "token_type", "expires_in", "refresh_token"}
# Statuses a refused verification token may answer (the design names none in particular).
REFUSED_TOKEN_STATUSES = (400, 401, 404, 409, 410, 422)
LOGIN_FAILURES_ALLOWED = 10  # per account per 15 minutes, then 429


def expect_no_store(reply) -> None:
    """Token responses must never be cached."""
    expect(
        "no-store" in reply.headers.get("Cache-Control", ""), "needs Cache-Control: no-store", reply
    )


# --- 2.1 Auth as Infrastructure ------------------------------------------------------------
@check("2.1", "POST /auth/register → 201, an unverified student, no password in sight")
def register(world: World) -> None:
    """Registration makes a student account and never shows the password or its hash."""
    email, reply = world.register()
    user = expect_json(reply, 201)
    expect_keys(reply, user, USER_KEYS, "a user")
    expect(user["email"].lower() == email.lower(), "the email differs", reply)
    expect(
        user["role"] == "student" and user["is_verified"] is False,
        "not an unverified student",
        reply,
    )
    expect(
        isinstance(user["student_id"], int) and user["instructor_id"] is None,
        "a student user links to its student record only",
        reply,
    )
    text = reply.body.decode("utf-8", errors="replace")
    expect("password" not in text and "$2" not in text, "the password or its hash leaks", reply)


@check("2.1", "an email registers once, ignoring case (409)")
def register_twice(world: World) -> None:
    """A second account for the same address is refused."""
    email, reply = world.register()
    expect_status(reply, 201)
    expect_problem(world.register(email.upper())[1], 409)


@check("2.1", "POST /auth/login → 200 with tokens, no-store")
def login(world: World) -> None:
    """The right password gets a Bearer access token and a refresh token."""
    email, reply = world.register()
    expect_status(reply, 201)
    reply = world.login(email)
    body = expect_json(reply, 200)
    expect_keys(reply, body, TOKEN_KEYS, "a token response")
    expect(body["token_type"].lower() == "bearer", 'token_type must be "Bearer"', reply)
    expect(isinstance(body["expires_in"], int) and body["expires_in"] > 0, "expires_in > 0", reply)
    expect_no_store(reply)


@check("2.1", "a wrong password and an unknown email answer the same 401")
def login_refused(world: World) -> None:
    """Login does not tell which emails have accounts."""
    email, reply = world.register()
    expect_status(reply, 201)
    wrong = world.login(email, "not-the-password")
    unknown = world.login(world.email("nobody"), "not-the-password")
    wrong_body, unknown_body = expect_problem(wrong, 401), expect_problem(unknown, 401)
    expect(
        wrong_body["detail"] == unknown_body["detail"], "the two 401s say different things", unknown
    )


@check("2.1", "passwords are 8–72 bytes: shorter or longer is 422, never cut")
def password_length(world: World) -> None:
    """The limits count UTF-8 bytes, and a 72-byte password works whole."""
    for too_bad in ("short77", "x" * 73, "é" * 37):  # 7, 73 and 74 bytes
        expect_problem(world.register(password=too_bad)[1], 422, "password")
    longest = "é" * 36  # 72 bytes
    email, reply = world.register(password=longest)
    expect_status(reply, 201)
    expect_status(world.login(email, longest), 200)
    expect_problem(world.login(email, "é" * 35 + "e"), 401)


@check("2.1", "the admin logs in (--admin-email/--admin-password) and is an admin")
def admin_login(world: World) -> None:
    """The instructor's admin account works; GET /auth/me says admin."""
    admin = world.require_admin()
    reply = admin.client.get("/auth/me")
    expect(
        expect_json(reply, 200).get("role") == "admin", 'the admin\'s role is not "admin"', reply
    )


@check("2.1", "repeated failed logins are throttled: 429 with Retry-After")
def login_throttle(world: World) -> None:
    """After 10 failures for one account, even the right password waits."""
    email, reply = world.register()
    expect_status(reply, 201)
    for attempt in range(1, LOGIN_FAILURES_ALLOWED + 1):
        reply = world.login(email, f"wrong-password-{attempt}")
        expect(reply.status == 401, f"failed login {attempt} should still be a 401", reply)
    reply = world.login(email)
    expect_problem(reply, 429)
    expect(reply.headers.get("Retry-After", "").isdigit(), "a 429 says Retry-After: seconds", reply)


# --- 2.2 JWT in Practice -------------------------------------------------------------------
@check("2.2", "GET /auth/me with the access token → the account")
def me(world: World) -> None:
    """The token names its user."""
    account = world.account(verified=False)
    reply = account.client.get("/auth/me")
    body = expect_json(reply, 200)
    expect_keys(reply, body, USER_KEYS, "a user")
    expect(body["email"].lower() == account.email.lower(), "/auth/me names someone else", reply)


@check("2.2", "the access token is a signed JWT with sub, iat and exp")
def token_claims(world: World) -> None:
    """The claims a server must require are there, and the algorithm is a real one."""
    account = world.account(verified=False)
    decoded = tokens.parts(account.tokens["access_token"])
    expect(decoded is not None, "the access token is not a JWT (header.claims.signature)")
    header, claims, signature = decoded
    expect(header.get("alg", "none").lower() != "none" and signature, "the token is unsigned")
    missing = {"sub", "iat", "exp"} - set(claims)
    expect(not missing, f"the token lacks {', '.join(sorted(missing))}")
    expect(claims["exp"] > claims["iat"], "exp must come after iat")


def token_attack(world: World, craft) -> None:
    """Present a token crafted from a real one: /auth/me must answer 401."""
    account = world.account(verified=False)
    decoded = tokens.parts(account.tokens["access_token"])
    if decoded is None:
        raise CheckSkipped("the access token is not a JWT")
    header, claims, _ = decoded
    bad = craft(account.tokens["access_token"], header, claims)
    expect_problem(account.client.with_token(bad).get("/auth/me"), 401)


@check("2.2", "a forged token (plausible, wrong signature) is a 401")
def forged_token(world: World) -> None:
    """Signed with a key the server never had."""
    token_attack(world, lambda token, header, claims: tokens.forged(header, claims))


@check("2.2", 'a token with "alg": "none" is a 401')
def unsigned_token(world: World) -> None:
    """The algorithm is pinned: an unsigned token is no token."""
    token_attack(world, lambda token, header, claims: tokens.unsigned(header, claims))


@check("2.2", "a tampered token (claims changed, signature kept) is a 401")
def tampered_token(world: World) -> None:
    """Promoting oneself to admin breaks the signature."""
    token_attack(
        world, lambda token, header, claims: tokens.tampered(token, {**claims, "role": "admin"})
    )


@check("2.2", "an expired token is a 401 (needs --secret-key)")
def expired_token(world: World) -> None:
    """Signed with the server's key, but past its exp; a fresh one signed alike works."""
    key = world.settings.secret_key
    if not key:
        raise CheckSkipped("needs --secret-key to sign a token the server would otherwise accept")
    account = world.account(verified=False)
    header, claims, _ = tokens.parts(account.tokens["access_token"])
    now = int(time.time())
    fresh = tokens.sign(header, {**claims, "iat": now - 5, "exp": now + 300}, key)
    reply = account.client.with_token(fresh).get("/auth/me")
    expect(reply.status == 200, "a token signed with --secret-key is refused: wrong key?", reply)
    expired = tokens.sign(header, {**claims, "iat": now - 7200, "exp": now - 3600}, key)
    expect_problem(account.client.with_token(expired).get("/auth/me"), 401)


@check("2.2", "a malformed Authorization header is a 401")
def malformed_header(world: World) -> None:
    """Not 'Bearer <token>', or a token that is not one."""
    for header in ("Bearer", "Token abc.def.ghi", "Bearer not-a-jwt"):
        reply = world.anonymous.get("/auth/me", headers={"Authorization": header})
        expect_problem(reply, 401)


@check("2.2", "POST /auth/refresh rotates the refresh token")
def refresh(world: World) -> None:
    """A refresh token buys new tokens once."""
    account = world.account(verified=False)
    reply = world.anonymous.post(
        "/auth/refresh", {"refresh_token": account.tokens["refresh_token"]}
    )
    body = expect_json(reply, 200)
    expect_keys(reply, body, TOKEN_KEYS, "a token response")
    expect_no_store(reply)
    expect(body["refresh_token"] != account.tokens["refresh_token"], "not rotated", reply)
    expect_status(account.client.with_token(body["access_token"]).get("/auth/me"), 200)


@check("2.2", "reusing a refresh token revokes its whole family")
def refresh_reuse(world: World) -> None:
    """A reused (stolen) refresh token is refused, and so is its successor."""
    account = world.account(verified=False)
    first = account.tokens["refresh_token"]
    second = expect_json(world.anonymous.post("/auth/refresh", {"refresh_token": first}), 200)
    expect_problem(world.anonymous.post("/auth/refresh", {"refresh_token": first}), 401)
    reply = world.anonymous.post("/auth/refresh", {"refresh_token": second["refresh_token"]})
    expect_problem(reply, 401)


@check("2.2", "POST /auth/logout ends the session: its refresh token stops working")
def logout(world: World) -> None:
    """After logout the refresh token is dead."""
    account = world.account(verified=False)
    body = {"refresh_token": account.tokens["refresh_token"]}
    expect_status(account.client.post("/auth/logout", body), 200, 204)
    expect_problem(world.anonymous.post("/auth/refresh", body), 401)


# --- 2.3 Protecting Routes -----------------------------------------------------------------
@check("2.3", "catalog writes without a token are 401")
def anonymous_writes(world: World) -> None:
    """Nobody anonymous changes the catalog."""
    course, section = world.course(), world.section()
    student = world.student()
    attempts = [
        ("POST", "/courses", {"code": world.course_code(), "title": "Anon", "credits": 3}),
        ("PATCH", f"/courses/{course['id']}", {"title": "Anon"}),
        ("DELETE", f"/courses/{course['id']}", None),
        ("POST", "/rooms", {"name": f"Anon {world.unique()}", "capacity": 5}),
        ("POST", "/instructors", {"full_name": "Anon", "email": world.email("anon")}),
        ("POST", "/students", {"full_name": "Anon", "email": world.email("anon")}),
        ("POST", "/sections", world.section_body()),
        ("DELETE", f"/sections/{section['id']}", None),
        ("POST", f"/sections/{section['id']}/enrollments", {"student_id": student["id"]}),
    ]
    for method, path, body in attempts:
        expect_problem(world.anonymous.request(method, path, json_body=body), 401)
    expect_status(world.anonymous.get(f"/courses/{course['id']}"), 200)


@check("2.3", "catalog reads are public")
def public_reads(world: World) -> None:
    """Courses, sections, rooms and instructors read without a token."""
    section = world.section()
    for path in (
        "/courses",
        "/sections",
        "/rooms",
        "/instructors",
        f"/sections/{section['id']}",
        f"/courses/{section['course']['id']}",
        f"/rooms/{section['room']['id']}",
    ):
        expect_status(world.anonymous.get(path), 200)


@check("2.3", "GET /auth/me and the student list need a token (401)")
def private_reads(world: World) -> None:
    """Who-am-I and people's records are not public."""
    student = world.student()
    for path in (
        "/auth/me",
        "/students",
        f"/students/{student['id']}",
        f"/students/{student['id']}/schedule",
    ):
        expect_problem(world.anonymous.get(path), 401)


@check("2.3", "a student's token cannot write the catalog (403)")
def student_cannot_write(world: World) -> None:
    """Authenticated, but not an admin."""
    account = world.account(verified=False)
    course = world.course()
    for method, path, body in (
        ("POST", "/courses", {"code": world.course_code(), "title": "Mine", "credits": 3}),
        ("PATCH", f"/courses/{course['id']}", {"title": "Mine"}),
        ("DELETE", f"/courses/{course['id']}", None),
        ("POST", "/rooms", {"name": f"Mine {world.unique()}", "capacity": 5}),
        ("POST", "/sections", world.section_body()),
    ):
        expect_problem(account.client.request(method, path, json_body=body), 403)
    expect_problem(account.client.get("/students"), 403)


# --- 2.4 Authorization Rules ---------------------------------------------------------------
@check("2.4", "a student reads their own record and schedule, not another's (403)")
def own_records(world: World) -> None:
    """Ownership decides: one's own id works, any other is forbidden."""
    account, other = world.account(verified=False), world.student()
    for suffix in ("", "/schedule"):
        expect_status(account.client.get(f"/students/{account.student_id}{suffix}"), 200)
        expect_problem(account.client.get(f"/students/{other['id']}{suffix}"), 403)


@check("2.4", "a student changes their own name, never another student (403, unchanged)")
def own_changes(world: World) -> None:
    """A refused change changes nothing."""
    account, other = world.account(verified=False), world.student()
    reply = account.client.patch(f"/students/{account.student_id}", {"full_name": "New Name"})
    expect(expect_json(reply, 200).get("full_name") == "New Name", "the name did not change", reply)
    expect_problem(account.client.patch(f"/students/{other['id']}", {"full_name": "Hacked"}), 403)
    reply = world.writer.get(f"/students/{other['id']}")
    expect(expect_json(reply, 200).get("full_name") == other["full_name"], "it changed!", reply)


@check("2.4", "a student enrolls and drops only themselves (403 for others)")
def own_enrollments(world: World) -> None:
    """Enrolling or dropping someone else is forbidden; oneself works."""
    account, other = world.account(), world.student()
    section = world.section()
    path = f"/sections/{section['id']}/enrollments"
    expect_problem(account.client.post(path, {"student_id": other["id"]}), 403)
    expect_status(world.writer.post(path, {"student_id": other["id"]}), 201)
    expect_problem(account.client.delete(f"{path}/{other['id']}"), 403)
    expect_status(account.client.post(path, {"student_id": account.student_id}), 201)
    expect_status(account.client.delete(f"{path}/{account.student_id}"), 204)
    reply = world.writer.get(path)
    ids = [item["student"]["id"] for item in expect_envelope(reply)["items"]]
    expect(ids == [other["id"]], "the roster should hold only the other student", reply)


@check("2.4", "a student cannot read a section's roster (403)")
def roster_is_private(world: World) -> None:
    """Rosters are for the section's instructor and admins."""
    account, section = world.account(verified=False), world.section()
    expect_problem(account.client.get(f"/sections/{section['id']}/enrollments"), 403)


@check("2.4", "an admin acts for anyone: enroll, schedule, drop")
def admin_acts_for_anyone(world: World) -> None:
    """The other side of every ownership rule."""
    admin = world.require_admin()
    account, section = world.account(), world.section()
    path = f"/sections/{section['id']}/enrollments"
    expect_status(admin.client.post(path, {"student_id": account.student_id}), 201)
    reply = admin.client.get(f"/students/{account.student_id}/schedule")
    expect(expect_envelope(reply)["total"] == 1, "the admin sees a wrong schedule", reply)
    expect_status(admin.client.get(f"/students/{account.student_id}"), 200)
    expect_status(admin.client.delete(f"{path}/{account.student_id}"), 204)


@check("2.4", "an instructor reads their own sections' rosters, not others' (403)")
def instructor_rosters(world: World) -> None:
    """The instructor side: own rosters yes, other rosters, rescheduling and the catalog no."""
    instructor = world.instructor()
    account = world.instructor_account(instructor)
    own, other = world.section(instructor_id=instructor["id"]), world.section()
    expect_envelope(account.client.get(f"/sections/{own['id']}/enrollments"))
    expect_problem(account.client.get(f"/sections/{other['id']}/enrollments"), 403)
    expect_problem(account.client.patch(f"/sections/{own['id']}", {"capacity": 5}), 403)
    expect_problem(account.client.patch(f"/sections/{other['id']}", {"capacity": 5}), 403)
    course = {"code": world.course_code(), "title": "Mine", "credits": 3}
    expect_problem(account.client.post("/courses", course), 403)


# --- 2.5 User State Matters ----------------------------------------------------------------
@check("2.5", "an unverified student reads their record but cannot enroll (403)")
def unverified_cannot_enroll(world: World) -> None:
    """Verification gates enrolling, not reading."""
    account, section = world.account(verified=False), world.section()
    reply = account.client.get("/auth/me")
    expect(expect_json(reply, 200).get("is_verified") is False, "should be unverified", reply)
    expect_status(account.client.get(f"/students/{account.student_id}"), 200)
    path = f"/sections/{section['id']}/enrollments"
    expect_problem(account.client.post(path, {"student_id": account.student_id}), 403)


@check("2.5", "POST /auth/verify with the mailed token verifies, once")
def verify(world: World) -> None:
    """The token from the outbox verifies the account, which may then enroll; it works once."""
    account, section = world.account(verified=False), world.section()
    token = world.verification_token(account.email)
    reply = world.anonymous.post("/auth/verify", {"token": token})
    expect_status(reply, 200)
    reply = account.client.get("/auth/me")
    expect(expect_json(reply, 200).get("is_verified") is True, "still unverified", reply)
    path = f"/sections/{section['id']}/enrollments"
    expect_status(account.client.post(path, {"student_id": account.student_id}), 201)
    reply = world.anonymous.post("/auth/verify", {"token": token})
    expect_status(reply, *REFUSED_TOKEN_STATUSES)
    expect_problem(reply, reply.status)


@check("2.5", "a made-up verification token is refused")
def verify_garbage(world: World) -> None:
    """Guessing does not verify anyone."""
    reply = world.anonymous.post("/auth/verify", {"token": "x" * 43})
    expect_status(reply, *REFUSED_TOKEN_STATUSES)
    expect_problem(reply, reply.status)


@check("2.5", "resend-verification answers 202 whatever the address")
def resend(world: World) -> None:
    """The answer does not tell which addresses have accounts."""
    email, reply = world.register()
    expect_status(reply, 201)
    known = world.anonymous.post("/auth/resend-verification", {"email": email})
    unknown = world.anonymous.post("/auth/resend-verification", {"email": world.email("nobody")})
    expect_status(known, 202)
    expect_status(unknown, 202)
    expect(known.json == unknown.json, "the two answers differ", unknown)


# --- 2.6 Input Validation ------------------------------------------------------------------
@check("2.6", "registration names every missing or bad field (422)")
def register_validation(world: World) -> None:
    """All the problems at once."""
    expect_problem(
        world.anonymous.post("/auth/register", {}), 422, "email", "password", "full_name"
    )
    reply = world.anonymous.post(
        "/auth/register", {"email": "not-an-email", "password": PASSWORD, "full_name": "X"}
    )
    expect_problem(reply, 422, "email")


@check("2.6", "registration can never set role or verification")
def register_cannot_escalate(world: World) -> None:
    """Refused (422), or ignored: the account is still an unverified student."""
    email = world.email("escalate")
    body = {
        "email": email,
        "password": PASSWORD,
        "full_name": "Eve",
        "role": "admin",
        "is_verified": True,
    }
    reply = world.anonymous.post("/auth/register", body)
    if reply.status == 422:
        expect_problem(reply, 422)
        return
    user = expect_json(reply, 201)
    expect(
        user.get("role") == "student" and user.get("is_verified") is False,
        "registration set the role or the verification",
        reply,
    )


@check("2.6", "wrong types and formats are 422 naming the field")
def field_formats(world: World) -> None:
    """Strings for numbers, booleans for integers, bad days, times and terms."""
    for credits in ("3", True, 3.5):
        body = {"code": world.course_code(), "title": "Types", "credits": credits}
        expect_problem(world.writer.post("/courses", body), 422, "credits")
    for field, value in (
        ("days", []),
        ("days", ["MON", "MON"]),
        ("days", ["MONDAY"]),
        ("starts_at", "9:00"),
        ("starts_at", "24:00"),
        ("term", "2027-autumn"),
        ("capacity", 0),
        ("course_id", "1"),
    ):
        reply = world.writer.post("/sections", world.section_body(**{field: value}))
        expect_problem(reply, 422, field)


@check("2.6", "bad filters and paging are 400 naming the parameter")
def query_validation(world: World) -> None:
    """Query strings are validated at the boundary too."""
    for params in ({"term": "2027-autumn"}, {"room_id": "-1"}, {"offset": "x"}):
        expect_problem(world.anonymous.get("/sections", params=params), 400, *params)


# --- 2.7 SQL Safety in Practice ------------------------------------------------------------
INJECTIONS = ("Robert'); DROP TABLE students; --", "' OR '1'='1", "%_\\' ; SELECT pg_sleep(5)")


@check("2.7", "SQL in a value is stored as text, exactly")
def injection_in_values(world: World) -> None:
    """Parameters, never string-built SQL."""
    for name in INJECTIONS:
        student = world.create("/students", {"full_name": name, "email": world.email("bobby")})
        reply = world.writer.get(f"/students/{student['id']}")
        expect(expect_json(reply, 200).get("full_name") == name, "the name changed", reply)
    expect_envelope(world.writer.get("/students"))


@check("2.7", "SQL in a login is just a wrong login (401)")
def injection_in_login(world: World) -> None:
    """Neither the email nor the password is ever part of a query's text."""
    email, reply = world.register()
    expect_status(reply, 201)
    for attempt in (
        {"email": f"{email}' --", "password": "x"},
        {"email": email, "password": "' OR '1'='1"},
    ):
        reply = world.anonymous.post("/auth/login", attempt)
        expect_status(reply, 401, 422)
        expect_problem(reply, reply.status)


@check("2.7", "SQL in filters and ids is refused (400, 404)")
def injection_in_queries(world: World) -> None:
    """Query parameters and path ids are checked before any query runs."""
    for params in ({"term": "2027-fall' OR '1'='1"}, {"course_id": "1 OR 1=1"}):
        expect_problem(world.anonymous.get("/sections", params=params), 400)
    expect_problem(world.anonymous.get("/courses/1 OR 1=1"), 404)
    expect_problem(world.anonymous.get("/courses/1;DROP TABLE courses"), 404)


# --- 2.8 Business Logic Layers -------------------------------------------------------------
@check("2.8", "a student holds at most 18 credits per term (409)")
def credit_limit(world: World) -> None:
    """18 fit, the 19th is refused; another term starts afresh."""
    student = world.student()
    body = {"student_id": student["id"]}
    for hour in ("08:00", "10:00", "12:00"):
        course = world.course(credits=6)
        section = world.section(
            course_id=course["id"], days=["TUE"], starts_at=hour, ends_at=hour[:2] + ":50"
        )
        expect_status(world.writer.post(f"/sections/{section['id']}/enrollments", body), 201)
    extra = world.section(course_id=world.course(credits=1)["id"], days=["SUN"])
    expect_problem(world.writer.post(f"/sections/{extra['id']}/enrollments", body), 409)
    other = world.section(course_id=world.course(credits=1)["id"], term=world.term("spring"))
    expect_status(world.writer.post(f"/sections/{other['id']}/enrollments", body), 201)


@check("2.8", "changes never strand enrolled students (409)")
def no_stranding(world: World) -> None:
    """Capacity below the enrolled count, a room smaller than its section, or new times
    that clash with an enrolled student's other section are refused."""
    room = world.room(capacity=20)
    section = world.section(
        room_id=room["id"], capacity=20, days=["MON"], starts_at="14:00", ends_at="15:00"
    )
    students = [world.student() for _ in range(2)]
    path = f"/sections/{section['id']}/enrollments"
    for student in students:
        expect_status(world.writer.post(path, {"student_id": student["id"]}), 201)
    expect_problem(world.writer.patch(f"/sections/{section['id']}", {"capacity": 1}), 409)
    reply = world.writer.patch(f"/rooms/{room['id']}", {"capacity": 10})
    expect_status(reply, 409, 422)
    expect_problem(reply, reply.status)
    elsewhere = world.section(days=["TUE"], starts_at="14:00", ends_at="15:00")
    body = {"student_id": students[0]["id"]}
    expect_status(world.writer.post(f"/sections/{elsewhere['id']}/enrollments", body), 201)
    expect_problem(world.writer.patch(f"/sections/{section['id']}", {"days": ["MON", "TUE"]}), 409)
