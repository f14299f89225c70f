"""Lesson 3.8's end-to-end journeys: one user's whole flow, each step checked by what the
next request shows, as a tester with Postman would walk it."""

import time

from scheduler_conformance.checks.unit1 import WAITLIST_UNIT, expect_waitlisted
from scheduler_conformance.registry import (
    expect,
    expect_envelope,
    expect_json,
    expect_problem,
    expect_status,
)
from scheduler_conformance.world import World


def seats(world: World, section_id: int, enrolled: int, seats_left: int) -> None:
    """Fail unless the section counts `enrolled` students and `seats_left` free seats."""
    reply = world.anonymous.get(f"/sections/{section_id}")
    body = expect_json(reply, 200)
    expect(
        (body.get("enrolled"), body.get("seats_left")) == (enrolled, seats_left),
        f"expected {enrolled} enrolled and {seats_left} seats left",
        reply,
    )


# How long a background job may take to promote the next in line (Unit 4's worker).
PROMOTION_TIMEOUT = 30  # seconds


def seats_soon(world: World, section_id: int, enrolled: int, seats_left: int) -> None:
    """Like `seats`, but give the server's background work PROMOTION_TIMEOUT seconds to get
    there (asked every 0.2 s); then fail with what the section shows."""
    deadline = time.monotonic() + PROMOTION_TIMEOUT
    while time.monotonic() < deadline:
        body = world.anonymous.get(f"/sections/{section_id}").json
        if isinstance(body, dict) and (body.get("enrolled"), body.get("seats_left")) == (
            enrolled,
            seats_left,
        ):
            return
        time.sleep(0.2)
    seats(world, section_id, enrolled, seats_left)


def roster_ids(world: World, section_id: int) -> set[int]:
    """The ids of the students on a section's roster."""
    reply = world.writer.get(f"/sections/{section_id}/enrollments")
    return {item["student"]["id"] for item in expect_envelope(reply)["items"]}


def student_journey(world: World) -> None:
    """Register, verify, log in, find a section, enroll, read the schedule, drop, refresh,
    log out: a new student's first session, start to end."""
    section = world.section(capacity=2)
    email, reply = world.register()
    expect_status(reply, 201)
    token = world.verification_token(email)
    expect_status(world.anonymous.post("/auth/verify", {"token": token}), 200)
    tokens = expect_json(reply := world.login(email), 200)
    client = world.anonymous.with_token(tokens["access_token"])
    me = expect_json(reply := client.get("/auth/me"), 200)
    expect(me.get("is_verified") is True, "the account is not verified after /auth/verify", reply)
    student_id = me["student_id"]
    found = world.anonymous.get("/sections", params={"course_id": section["course"]["id"]})
    ids = [item.get("id") for item in expect_envelope(found)["items"]]
    expect(ids == [section["id"]], "the student cannot find the section by its course", found)
    path = f"/sections/{section['id']}/enrollments"
    expect_status(client.post(path, {"student_id": student_id}), 201)
    seats(world, section["id"], 1, 1)
    schedule = expect_envelope(reply := client.get(f"/students/{student_id}/schedule"))
    expect([s.get("id") for s in schedule["items"]] == [section["id"]], "not scheduled", reply)
    expect_problem(client.post(path, {"student_id": student_id}), 409)
    expect_status(client.delete(f"{path}/{student_id}"), 204)
    seats(world, section["id"], 0, 2)
    reply = client.get(f"/students/{student_id}/schedule")
    expect(expect_envelope(reply)["total"] == 0, "the dropped section is still scheduled", reply)
    renewed = expect_json(
        world.anonymous.post("/auth/refresh", {"refresh_token": tokens["refresh_token"]}), 200
    )
    client = client.with_token(renewed["access_token"])
    expect_status(client.get("/auth/me"), 200)
    body = {"refresh_token": renewed["refresh_token"]}
    expect_status(client.post("/auth/logout", body), 200, 204)
    expect_problem(world.anonymous.post("/auth/refresh", body), 401)


def admin_journey(world: World) -> None:
    """Publish a section, fill it, refuse one too many, free a seat, reschedule it with its
    students, then take it all down in the only order the data allows."""
    course, instructor, room = world.course(), world.instructor(), world.room()
    section = world.section(
        course_id=course["id"],
        instructor_id=instructor["id"],
        room_id=room["id"],
        capacity=2,
        days=["MON"],
        starts_at="09:00",
        ends_at="10:00",
    )
    path = f"/sections/{section['id']}/enrollments"
    first, second, third = (world.student() for _ in range(3))
    for student in (first, second):
        expect_status(world.writer.post(path, {"student_id": student["id"]}), 201)
    # From Unit 4 on, one too many waits in line, and the seat a drop frees goes to them in
    # the background (the worker's promotion): soon both are seated again.
    waitlist = world.settings.unit >= WAITLIST_UNIT
    if waitlist:
        expect_waitlisted(world.writer.post(path, {"student_id": third["id"]}), 1)
    else:
        expect_problem(world.writer.post(path, {"student_id": third["id"]}), 409)
    seats(world, section["id"], 2, 0)
    expect_problem(world.writer.delete(f"/courses/{course['id']}"), 409)
    expect_status(world.writer.delete(f"{path}/{first['id']}"), 204)
    if not waitlist:
        expect_status(world.writer.post(path, {"student_id": third["id"]}), 201)
    reply = world.writer.get(path)
    wanted = {second["id"], third["id"]}
    expect(roster_ids(world, section["id"]) == wanted, "the roster is not the two left", reply)
    reply = world.writer.patch(
        f"/sections/{section['id']}", {"starts_at": "11:00", "ends_at": "12:00"}
    )
    moved = expect_json(reply, 200)
    expect((moved.get("starts_at"), moved.get("ends_at")) == ("11:00", "12:00"), "not moved", reply)
    seats_soon(world, section["id"], 2, 0)
    for student in (second, third):
        expect_status(world.writer.delete(f"{path}/{student['id']}"), 204)
    expect_status(world.writer.delete(f"/sections/{section['id']}"), 204)
    expect_status(world.writer.delete(f"/courses/{course['id']}"), 204)
    expect_problem(world.writer.get(f"/courses/{course['id']}"), 404)
