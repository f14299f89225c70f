"""Unit 1 (lessons 1.1–1.8): the catalog API, its shapes, its constraints and its errors."""

from scheduler_conformance.checks import all_at_once, odd_one_out, statuses
from scheduler_conformance.registry import (
    check,
    expect,
    expect_envelope,
    expect_json,
    expect_keys,
    expect_problem,
    expect_status,
    is_integer,
)
from scheduler_conformance.world import World

COLLECTIONS = ("/courses", "/instructors", "/rooms", "/students", "/sections")
# From this unit on, a full section puts the student on its waitlist (201) instead of a 409.
WAITLIST_UNIT = 4
SECTION_KEYS = {
    "id",
    "term",
    "capacity",
    "days",
    "starts_at",
    "ends_at",
    "course",
    "instructor",
    "room",
    "enrolled",
    "seats_left",
}
# Far beyond any limit a course server sets, and still quick to send over a local network.
TOO_LARGE_BYTES = 4 * 1024 * 1024


# --- 1.1 From Idea to Shape ----------------------------------------------------------------
@check("1.1", "GET /health answers 200 {status: ok, database: ok}")
def health(world: World) -> None:
    """The app is up and can reach its database."""
    reply = world.anonymous.get("/health")
    body = expect_json(reply, 200)
    expect(body.get("status") == "ok" and body.get("database") == "ok", "not ok", reply)


@check("1.1", "every collection answers GET with the list envelope")
def collections_exist(world: World) -> None:
    """The core entities are all there: courses, instructors, rooms, students, sections."""
    for path in COLLECTIONS:
        expect_envelope(world.writer.get(path), limit=20, offset=0)


# --- 1.2 Tables, Rows, Relations -----------------------------------------------------------
@check("1.2", "a course code is unique (409)")
def unique_course_code(world: World) -> None:
    """Two courses cannot share a code."""
    course = world.course()
    reply = world.writer.post("/courses", {"code": course["code"], "title": "Again", "credits": 3})
    expect_problem(reply, 409)


@check("1.2", "emails are unique ignoring case (instructors, students: 409)")
def unique_emails(world: World) -> None:
    """An email differing only in case is the same email."""
    for path, record in (("/instructors", world.instructor()), ("/students", world.student())):
        body = {"full_name": "Same Email", "email": record["email"].upper()}
        expect_problem(world.writer.post(path, body), 409)


@check("1.2", "a room name is unique (409)")
def unique_room_name(world: World) -> None:
    """Two rooms cannot share a name."""
    room = world.room()
    expect_problem(world.writer.post("/rooms", {"name": room["name"], "capacity": 5}), 409)


@check("1.2", "field rules: capacity > 0, credits 1–12, ends after start (422)")
def check_constraints(world: World) -> None:
    """Rows that break a rule of the data are refused, naming the field."""
    name = f"Conformance {world.run_tag} empty room {world.unique()}"
    expect_problem(world.writer.post("/rooms", {"name": name, "capacity": 0}), 422, "capacity")
    for credits in (0, 13):
        body = {"code": world.course_code(), "title": "Credits", "credits": credits}
        expect_problem(world.writer.post("/courses", body), 422, "credits")
    body = world.section_body(starts_at="11:00", ends_at="10:00")
    reply = world.writer.post("/sections", body)
    problem = expect_problem(reply, 422)
    named = set(problem.get("errors") or {})
    expect(named & {"ends_at", "starts_at"}, '"errors" should name ends_at (or starts_at)', reply)


@check("1.2", "a section's capacity fits its room (422 naming capacity)")
def section_fits_room(world: World) -> None:
    """A section cannot seat more students than its room holds."""
    room = world.room(capacity=10)
    reply = world.writer.post("/sections", world.section_body(room_id=room["id"], capacity=11))
    expect_problem(reply, 422, "capacity")


@check("1.2", "references must exist (422 naming course_id, instructor_id, room_id)")
def section_references(world: World) -> None:
    """An id that does not exist is a 422 naming that field."""
    for field, path in (
        ("course_id", "/courses"),
        ("instructor_id", "/instructors"),
        ("room_id", "/rooms"),
    ):
        missing = deleted_id(world, path)
        reply = world.writer.post("/sections", world.section_body(**{field: missing}))
        expect_problem(reply, 422, field)


@check("1.2", "a room is never double-booked (409); adjacent times and other terms are fine")
def room_double_booking(world: World) -> None:
    """Overlapping sections in one room and term are refused by the data itself."""
    room = world.room()
    world.section(room_id=room["id"], days=["MON", "WED"], starts_at="09:00", ends_at="10:15")
    overlapping = world.section_body(
        room_id=room["id"], days=["WED", "FRI"], starts_at="10:00", ends_at="11:00"
    )
    expect_problem(world.writer.post("/sections", overlapping), 409)
    for fine in (
        {"days": ["MON"], "starts_at": "10:15", "ends_at": "11:00"},  # starts as the other ends
        {"days": ["TUE", "THU"], "starts_at": "09:00", "ends_at": "10:15"},
        {"term": world.term("spring"), "days": ["MON"], "starts_at": "09:00", "ends_at": "10:15"},
    ):
        expect_status(
            world.writer.post("/sections", world.section_body(room_id=room["id"], **fine)), 201
        )


@check("1.2", "an instructor is never double-booked (409)")
def instructor_double_booking(world: World) -> None:
    """One instructor cannot teach two overlapping sections in one term."""
    instructor = world.instructor()
    world.section(instructor_id=instructor["id"], days=["TUE"], starts_at="13:00", ends_at="14:00")
    clash = world.section_body(
        instructor_id=instructor["id"], days=["TUE"], starts_at="13:30", ends_at="15:00"
    )
    expect_problem(world.writer.post("/sections", clash), 409)


@check("1.2", "a record still referenced cannot be deleted (409)")
def still_referenced(world: World) -> None:
    """Deleting a course, instructor or room a section uses, or an enrolled student, fails."""
    section = world.section()
    student = world.student()
    enroll = world.writer.post(
        f"/sections/{section['id']}/enrollments", {"student_id": student["id"]}
    )
    expect_status(enroll, 201)
    for path in (
        f"/courses/{section['course']['id']}",
        f"/instructors/{section['instructor']['id']}",
        f"/rooms/{section['room']['id']}",
        f"/students/{student['id']}",
    ):
        expect_problem(world.writer.delete(path), 409)
        expect_status(world.writer.get(path), 200)


# --- 1.3 SQL as the Source -----------------------------------------------------------------
@check("1.3", "what is written reads back exactly (text, days, times, term)")
def round_trip(world: World) -> None:
    """Values come back as they were stored: Unicode text, weekday lists, HH:MM times."""
    title = f"Éléments de logique — naïve Σ {world.unique()}"
    course = world.course(title=title, description="Ünïcödé 日本語 ✓")
    reply = world.writer.get(f"/courses/{course['id']}")
    body = expect_json(reply, 200)
    expect(body.get("title") == title, "the title changed on the way", reply)
    expect(body.get("description") == "Ünïcödé 日本語 ✓", "the description changed", reply)
    section = world.section(days=["TUE", "THU"], starts_at="08:05", ends_at="21:55")
    reply = world.writer.get(f"/sections/{section['id']}")
    body = expect_json(reply, 200)
    expect(body.get("days") == ["TUE", "THU"], 'days should read ["TUE", "THU"]', reply)
    expect(body.get("starts_at") == "08:05", 'starts_at should read "08:05"', reply)
    expect(body.get("ends_at") == "21:55", 'ends_at should read "21:55"', reply)
    expect(body.get("term") == world.term(), f"term should read {world.term()!r}", reply)


# --- 1.4 Flask App Structure ---------------------------------------------------------------
@check("1.4", "the API lives under /api/v1 and answers JSON")
def json_under_prefix(world: World) -> None:
    """Every answer of the API is JSON under one prefix."""
    for path in ("/health", "/courses"):
        reply = world.anonymous.get(path)
        expect_json(reply, 200)


@check("1.4", "an unknown route is a 404 problem, not an HTML page")
def unknown_route(world: World) -> None:
    """Even the framework's own errors answer problem+json."""
    expect_problem(world.anonymous.get(f"/no-such-resource-{world.unique()}"), 404)


# --- 1.5 First Endpoints Live --------------------------------------------------------------
@check("1.5", "POST /courses → 201, Location, the created course")
def create_course(world: World) -> None:
    """Creating answers 201 with the new object and where it lives."""
    body = {"code": world.course_code(), "title": "Backend Engineering", "credits": 4}
    reply = world.writer.post("/courses", body)
    course = expect_json(reply, 201)
    expect_keys(reply, course, {"id", "code", "title", "description", "credits"}, "a course")
    expect(is_integer(course["id"]), "id must be an integer", reply)
    expect(course["title"] == body["title"] and course["credits"] == 4, "wrong values", reply)
    location = reply.headers.get("Location", "")
    expect(
        location.rstrip("/").endswith(f"/courses/{course['id']}"),
        "Location is not the course",
        reply,
    )
    reply = world.writer.get(f"/courses/{course['id']}")
    expect(expect_json(reply, 200) == course, "GET answers something else than POST did", reply)


@check("1.5", "PATCH /courses/{id} changes only the fields given")
def patch_course(world: World) -> None:
    """A partial update leaves the other fields alone."""
    course = world.course(credits=3)
    reply = world.writer.patch(f"/courses/{course['id']}", {"credits": 5})
    patched = expect_json(reply, 200)
    expect(patched.get("credits") == 5, "credits did not change", reply)
    expect(patched.get("title") == course["title"], "the title changed too", reply)
    expect(patched.get("code") == course["code"], "the code changed too", reply)


@check("1.5", "DELETE /courses/{id} → 204, then GET → 404")
def delete_course(world: World) -> None:
    """A deleted course is gone."""
    course = world.course()
    reply = expect_status(world.writer.delete(f"/courses/{course['id']}"), 204)
    expect(not reply.body.strip(), "a 204 has no body", reply)
    expect_problem(world.writer.get(f"/courses/{course['id']}"), 404)


@check("1.5", "GET /courses counts a new course (total)")
def list_courses(world: World) -> None:
    """The list envelope's total follows creations and deletions."""
    before = expect_envelope(world.anonymous.get("/courses"))["total"]
    course = world.course()
    reply = world.anonymous.get("/courses")
    expect(expect_envelope(reply)["total"] == before + 1, "total did not grow by one", reply)
    expect_status(world.writer.delete(f"/courses/{course['id']}"), 204)
    reply = world.anonymous.get("/courses")
    expect(expect_envelope(reply)["total"] == before, "total did not shrink back", reply)


@check("1.5", "a course without a title is refused (422 naming title)")
def course_needs_title(world: World) -> None:
    """A required field that is missing is named."""
    reply = world.writer.post("/courses", {"code": world.course_code(), "credits": 3})
    expect_problem(reply, 422, "title")


# --- 1.6 CRUD Across Entities --------------------------------------------------------------
def crud(world: World, path: str, body: dict, change: dict, keys: set[str]) -> None:
    """Create, read, patch, delete and miss one record of a collection."""
    reply = world.writer.post(path, body)
    created = expect_json(reply, 201)
    expect_keys(reply, created, keys | {"id"}, f"a record of {path}")
    expect(
        reply.headers.get("Location", "").rstrip("/").endswith(f"{path}/{created['id']}"),
        "Location does not point to the new record",
        reply,
    )
    item = f"{path}/{created['id']}"
    expect(expect_json(reply := world.writer.get(item), 200) == created, "GET differs", reply)
    patched = expect_json(reply := world.writer.patch(item, change), 200)
    expect(all(patched.get(k) == v for k, v in change.items()), "PATCH did not apply", reply)
    expect_status(world.writer.delete(item), 204)
    expect_problem(world.writer.get(item), 404)


@check("1.6", "instructors: create, read, patch, delete")
def crud_instructors(world: World) -> None:
    """The instructors collection behaves like the courses one."""
    body = {"full_name": "Ada Lovelace", "email": world.email("ada")}
    crud(world, "/instructors", body, {"full_name": "Ada King"}, {"full_name", "email"})


@check("1.6", "rooms: create, read, patch, delete")
def crud_rooms(world: World) -> None:
    """The rooms collection behaves like the courses one."""
    body = {"name": f"Conformance {world.run_tag} hall {world.unique()}", "capacity": 40}
    crud(world, "/rooms", body, {"capacity": 45}, {"name", "capacity"})


@check("1.6", "students: create, read, patch, delete")
def crud_students(world: World) -> None:
    """The students collection behaves like the courses one."""
    body = {"full_name": "Grace Hopper", "email": world.email("grace")}
    crud(world, "/students", body, {"full_name": "Grace B. Hopper"}, {"full_name", "email"})


@check("1.6", "a section embeds its course, instructor and room, and counts seats")
def section_shape(world: World) -> None:
    """The section object joins its relations."""
    course, instructor, room = world.course(), world.instructor(), world.room(capacity=25)
    body = world.section_body(
        course_id=course["id"], instructor_id=instructor["id"], room_id=room["id"], capacity=12
    )
    reply = world.writer.post("/sections", body)
    section = expect_json(reply, 201)
    expect_keys(reply, section, SECTION_KEYS, "a section")
    embedded = {key: section["course"].get(key) for key in ("id", "code", "title")}
    expect(
        embedded == {key: course[key] for key in ("id", "code", "title")},
        "course is not embedded as {id, code, title}",
        reply,
    )
    expect(
        section["instructor"].get("id") == instructor["id"]
        and section["instructor"].get("full_name") == instructor["full_name"],
        "instructor is not embedded as {id, full_name}",
        reply,
    )
    expect(
        section["room"].get("id") == room["id"] and section["room"].get("name") == room["name"],
        "room is not embedded as {id, name}",
        reply,
    )
    expect(section["enrolled"] == 0 and section["seats_left"] == 12, "seats are miscounted", reply)
    location = reply.headers.get("Location", "").rstrip("/")
    expect(location.endswith(f"/sections/{section['id']}"), "Location is not the section", reply)


@check("1.6", "sections: patch and delete")
def section_patch_delete(world: World) -> None:
    """A section changes partially and can be removed while nobody is enrolled."""
    section = world.section(capacity=10)
    item = f"/sections/{section['id']}"
    reply = world.writer.patch(item, {"capacity": 8, "starts_at": "09:30"})
    patched = expect_json(reply, 200)
    expect(patched.get("capacity") == 8 and patched.get("starts_at") == "09:30", "no change", reply)
    expect(patched.get("ends_at") == section["ends_at"], "ends_at changed too", reply)
    expect_status(world.writer.delete(item), 204)
    expect_problem(world.writer.get(item), 404)


@check("1.6", "sections filter by term, course_id, instructor_id and room_id")
def section_filters(world: World) -> None:
    """Each filter returns exactly the matching sections."""
    course, instructor = world.course(), world.instructor()
    first = world.section(
        course_id=course["id"], instructor_id=instructor["id"], term=world.term("winter")
    )
    second = world.section(
        course_id=course["id"],
        instructor_id=instructor["id"],
        term=world.term("winter"),
        days=["FRI"],
    )
    other = world.section(term=world.term("winter"), days=["SAT"])
    for params, wanted in (
        ({"course_id": course["id"]}, {first["id"], second["id"]}),
        ({"instructor_id": instructor["id"]}, {first["id"], second["id"]}),
        ({"room_id": other["room"]["id"]}, {other["id"]}),
        ({"term": world.term("winter")}, {first["id"], second["id"], other["id"]}),
        ({"course_id": course["id"], "room_id": other["room"]["id"]}, set()),
    ):
        reply = world.anonymous.get("/sections", params=params)
        body = expect_envelope(reply)
        found = {item.get("id") for item in body["items"]}
        expect(
            found == wanted and body["total"] == len(wanted),
            f"filter {params} should find exactly sections {sorted(wanted)}",
            reply,
        )


@check("1.6", "lists page with ?limit= and ?offset= (default 20, at most 100)")
def pagination(world: World) -> None:
    """Pages are bounded, echo their limit and offset, and do not overlap."""
    for _ in range(3):
        world.course()
    reply = world.anonymous.get("/courses")
    total = expect_envelope(reply, limit=20, offset=0)["total"]
    expect(total >= 3, "total counts fewer courses than were created", reply)
    first = expect_envelope(world.anonymous.get("/courses", params={"limit": 2}), 2, 0)
    reply = world.anonymous.get("/courses", params={"limit": 2, "offset": 2})
    second = expect_envelope(reply, 2, 2)
    expect(len(first["items"]) == 2, "a page of limit 2 holds 2 items here", reply)
    overlap = {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}
    expect(not overlap, f"pages 1 and 2 both hold ids {sorted(overlap)}", reply)
    reply = world.anonymous.get("/courses", params={"offset": total})
    expect(expect_envelope(reply)["items"] == [], "a page past the end is empty", reply)
    reply = world.anonymous.get("/courses", params={"limit": 101})
    if reply.status != 400:  # the documented alternative: clamp to the maximum
        expect(expect_envelope(reply)["limit"] <= 100, "limit=101 is a 400 or clamped", reply)
    else:
        expect_problem(reply, 400)
    for bad in ({"limit": 0}, {"limit": "abc"}, {"offset": -1}):
        expect_problem(world.anonymous.get("/courses", params=bad), 400)


@check("1.6", "enroll → 201, the roster, the seats and the student's schedule")
def enrollment_flow(world: World) -> None:
    """An enrollment shows up everywhere it should, and a drop removes it."""
    section, student = world.section(capacity=5), world.student()
    roster_path = f"/sections/{section['id']}/enrollments"
    reply = world.writer.post(roster_path, {"student_id": student["id"]})
    enrollment = expect_json(reply, 201)
    expect_keys(reply, enrollment, {"section_id", "student_id", "enrolled_at"}, "an enrollment")
    expect(
        enrollment["section_id"] == section["id"] and enrollment["student_id"] == student["id"],
        "the enrollment names another section or student",
        reply,
    )
    roster = expect_envelope(reply := world.writer.get(roster_path))
    expect(roster["total"] == 1 and len(roster["items"]) == 1, "the roster should hold 1", reply)
    item = roster["items"][0]
    expect_keys(reply, item, {"student", "enrolled_at"}, "a roster item")
    expect_keys(reply, item["student"], {"id", "full_name", "email"}, "a roster item's student")
    expect(item["student"]["id"] == student["id"], "the roster names another student", reply)
    seats = expect_json(reply := world.anonymous.get(f"/sections/{section['id']}"), 200)
    expect(seats.get("enrolled") == 1 and seats.get("seats_left") == 4, "seats miscounted", reply)
    schedule = expect_envelope(reply := world.writer.get(f"/students/{student['id']}/schedule"))
    expect(
        [s.get("id") for s in schedule["items"]] == [section["id"]], "not on the schedule", reply
    )
    expect_keys(reply, schedule["items"][0], SECTION_KEYS, "a schedule item")
    expect_status(world.writer.delete(f"{roster_path}/{student['id']}"), 204)
    expect_problem(world.writer.delete(f"{roster_path}/{student['id']}"), 404)
    reply = world.writer.get(roster_path)
    expect(expect_envelope(reply)["total"] == 0, "the dropped student is still listed", reply)


# --- 1.7 Data Access Boundaries ------------------------------------------------------------
def expect_waitlisted(reply, position: int) -> None:
    """Fail unless the reply is Unit 4's answer to a full section: 201, waitlisted, in line at
    `position`."""
    body = expect_json(reply, 201)
    expect(
        body.get("status") == "waitlisted" and body.get("position") == position,
        f"expected status waitlisted at position {position}",
        reply,
    )


@check("1.7", "no enrolling twice, into a full section or a missing one")
def enrollment_rules(world: World) -> None:
    """409 for a duplicate and a full section (from Unit 4 on: 201 waitlisted, and 409 for
    waiting twice), 404 for no section, 422 for no student."""
    section = world.section(capacity=1)
    first, second = world.student(), world.student()
    path = f"/sections/{section['id']}/enrollments"
    expect_status(world.writer.post(path, {"student_id": first["id"]}), 201)
    expect_problem(world.writer.post(path, {"student_id": first["id"]}), 409)
    if world.settings.unit >= WAITLIST_UNIT:
        expect_waitlisted(world.writer.post(path, {"student_id": second["id"]}), 1)
    expect_problem(world.writer.post(path, {"student_id": second["id"]}), 409)
    missing_student = deleted_id(world, "/students")
    expect_problem(world.writer.post(path, {"student_id": missing_student}), 422, "student_id")
    missing_section = deleted_id(world, "/sections")
    reply = world.writer.post(
        f"/sections/{missing_section}/enrollments", {"student_id": second["id"]}
    )
    expect_problem(reply, 404)


@check("1.7", "no timetable clash for a student in one term (409)")
def timetable_clash(world: World) -> None:
    """A student cannot sit in two overlapping sections; another term or time is fine."""
    student = world.student()
    first = world.section(days=["MON", "WED"], starts_at="09:00", ends_at="10:15")
    clashing = world.section(days=["WED"], starts_at="10:00", ends_at="11:00")
    later = world.section(days=["WED"], starts_at="10:15", ends_at="11:00")
    other_term = world.section(
        term=world.term("summer"), days=["MON"], starts_at="09:00", ends_at="10:15"
    )
    body = {"student_id": student["id"]}
    expect_status(world.writer.post(f"/sections/{first['id']}/enrollments", body), 201)
    expect_problem(world.writer.post(f"/sections/{clashing['id']}/enrollments", body), 409)
    expect_status(world.writer.post(f"/sections/{later['id']}/enrollments", body), 201)
    expect_status(world.writer.post(f"/sections/{other_term['id']}/enrollments", body), 201)


@check("1.7", "concurrent enrollments never over-fill a section")
def concurrent_overfill(world: World) -> None:
    """Many students racing for the last seats: exactly `capacity` get in (from Unit 4 on,
    the others are waitlisted at positions 1, 2, … with no gaps or repeats)."""
    capacity, racers = 2, world.settings.concurrency
    section = world.section(capacity=capacity)
    students = [world.student() for _ in range(racers)]
    path = f"/sections/{section['id']}/enrollments"
    writer = world.writer
    replies = all_at_once(
        [(lambda s=s: writer.post(path, {"student_id": s["id"]})) for s in students]
    )
    if world.settings.unit >= WAITLIST_UNIT:
        expect_lined_up(replies, capacity)
    else:
        got = statuses(replies)
        wanted = [201] * capacity + [409] * (racers - capacity)
        expect(
            got == wanted,
            f"{racers} racing for {capacity} seats: expected {wanted}, got {got}",
            odd_one_out(replies, capacity),
        )
    reply = world.anonymous.get(f"/sections/{section['id']}")
    body = expect_json(reply, 200)
    expect(
        body.get("enrolled") == capacity and body.get("seats_left") == 0, "seats miscounted", reply
    )


def expect_lined_up(replies: list, capacity: int) -> None:
    """Fail unless every racer got a 201: `capacity` of them enrolled, the rest waitlisted at
    positions 1 to the number waiting, each once."""
    for reply in replies:
        expect_json(reply, 201)
    enrolled = [reply for reply in replies if reply.json.get("status") == "enrolled"]
    waiting = [reply for reply in replies if reply.json.get("status") == "waitlisted"]
    expect(
        len(enrolled) == capacity and len(enrolled) + len(waiting) == len(replies),
        f"{len(replies)} racing for {capacity} seats: expected {capacity} enrolled and the "
        f"rest waitlisted, got {len(enrolled)} enrolled and {len(waiting)} waitlisted",
        enrolled[capacity] if len(enrolled) > capacity else replies[0],
    )
    positions = [reply.json.get("position") for reply in waiting]
    expect(
        all(is_integer(position) for position in positions)
        and sorted(positions) == list(range(1, len(waiting) + 1)),
        f"the waiting students were told positions {positions}",
        waiting[0],
    )


@check("1.7", "concurrent scheduling never double-books a room")
def concurrent_double_booking(world: World) -> None:
    """Sections racing for one room at one time: exactly one is scheduled."""
    room = world.room()
    bodies = [
        world.section_body(room_id=room["id"], days=["THU"], starts_at="15:00", ends_at="16:00")
        for _ in range(world.settings.concurrency)
    ]
    writer = world.writer
    replies = all_at_once([(lambda b=b: writer.post("/sections", b)) for b in bodies])
    got = statuses(replies)
    wanted = [201] + [409] * (len(bodies) - 1)
    expect(got == wanted, f"expected {wanted}, got {got}", odd_one_out(replies, 1))
    reply = world.anonymous.get("/sections", params={"room_id": room["id"]})
    expect(expect_envelope(reply)["total"] == 1, "the room holds more than one section", reply)


@check("1.7", "concurrent enrollments never clash in a student's timetable")
def concurrent_clash(world: World) -> None:
    """One student racing into overlapping sections: exactly one enrollment is made."""
    student = world.student()
    sections = [world.section(days=["FRI"], starts_at="11:00", ends_at="12:00") for _ in range(4)]
    writer = world.writer
    replies = all_at_once(
        [
            (
                lambda s=s: writer.post(
                    f"/sections/{s['id']}/enrollments", {"student_id": student["id"]}
                )
            )
            for s in sections
        ]
    )
    got = statuses(replies)
    expect(
        got == [201, 409, 409, 409],
        f"expected [201, 409, 409, 409], got {got}",
        odd_one_out(replies, 1),
    )
    reply = world.writer.get(f"/students/{student['id']}/schedule")
    expect(expect_envelope(reply)["total"] == 1, "the schedule holds clashing sections", reply)


# --- 1.8 Errors That Matter ----------------------------------------------------------------
@check("1.8", "a missing id is a 404 problem, also when not an integer or out of range")
def not_found(world: World) -> None:
    """No such id, a word instead of an id, and an id past any integer type: all 404."""
    for path in COLLECTIONS:
        missing = deleted_id(world, path)
        for item in (f"{path}/{missing}", f"{path}/abc", f"{path}/99999999999999999999999"):
            expect_problem(world.writer.get(item), 404)


@check("1.8", "a method the route does not have is a 405 problem with Allow")
def method_not_allowed(world: World) -> None:
    """DELETE on a collection: 405, and the Allow header lists what works."""
    reply = world.writer.delete("/courses")
    expect_problem(reply, 405)
    allowed = {m.strip().upper() for m in reply.headers.get("Allow", "").split(",")}
    expect({"GET", "POST"} <= allowed, "Allow should list GET and POST", reply)


@check("1.8", "a body that is not application/json is a 415 problem")
def unsupported_media_type(world: World) -> None:
    """Form data or plain text is refused before anything else."""
    body = f'{{"code": "{world.course_code()}", "title": "Plain", "credits": 3}}'.encode()
    reply = world.writer.request(
        "POST", "/courses", data=body, headers={"Content-Type": "text/plain"}
    )
    expect_problem(reply, 415)


@check("1.8", "malformed JSON, or JSON that is not an object, is a 400 problem")
def bad_json(world: World) -> None:
    """The body must parse, and be an object."""
    json_type = {"Content-Type": "application/json"}
    for raw in (b'{"code": "CS1', b"[1, 2, 3]", b'"a string"'):
        reply = world.writer.request("POST", "/courses", data=raw, headers=json_type)
        expect_problem(reply, 400)


@check("1.8", "a bad query parameter is a 400 problem")
def bad_query(world: World) -> None:
    """Filters and paging are checked, not ignored."""
    for params in ({"course_id": "abc"}, {"term": "someday"}, {"limit": "ten"}):
        expect_problem(world.anonymous.get("/sections", params=params), 400)


@check("1.8", "a body that is too large is a 413 problem")
def too_large(world: World) -> None:
    """A server sets a body limit and says so."""
    padding = "x" * TOO_LARGE_BYTES
    body = {"code": world.course_code(), "title": "Big", "credits": 3, "description": padding}
    expect_problem(world.writer.post("/courses", body), 413)


@check("1.8", "a validation failure is a 422 problem naming each bad field")
def validation_names_fields(world: World) -> None:
    """Every bad field is named at once, with a message."""
    reply = world.writer.post("/courses", {"code": world.course_code(), "title": "", "credits": 99})
    problem = expect_problem(reply, 422, "title", "credits")
    messages = problem["errors"]["credits"]
    expect(
        isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages),
        "each field maps to a list of messages",
        reply,
    )


def deleted_id(world: World, path: str) -> int:
    """An id of `path` that surely does not exist: made, then deleted."""
    factories = {
        "/courses": world.course,
        "/instructors": world.instructor,
        "/rooms": world.room,
        "/students": world.student,
        "/sections": world.section,
    }
    record = factories[path]()
    expect_status(world.writer.delete(f"{path}/{record['id']}"), 204)
    return record["id"]
