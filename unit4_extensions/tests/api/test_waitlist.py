"""The waitlist (lesson 4.5) through the API: a full section answers 201 waitlisted with a
position; seats count the seated only; nobody jumps the line; the rules hold for the waiting;
dropping out of the line moves everyone behind up; roster, schedule and section say so."""

import pytest
from helpers import (
    assert_problem,
    drop,
    enroll,
    enrollments_url,
    make_course,
    make_section,
    make_student,
    positions,
)

SECTIONS = "/api/v1/sections"
STUDENTS = "/api/v1/students"


@pytest.fixture
def full_section(client) -> dict:
    """A section of capacity 1 whose seat is taken; its id and its seated student."""
    section = make_section(client, capacity=1)
    seated = make_student(client)
    enroll(client, section["id"], seated["id"])
    return {"id": section["id"], "seated": seated["id"]}


def test_enrolling_into_a_full_section_is_201_waitlisted_with_a_position(client, full_section):
    first, second = make_student(client), make_student(client)

    response = client.post(enrollments_url(full_section["id"]), json={"student_id": first["id"]})
    later = enroll(client, full_section["id"], second["id"])

    assert response.status_code == 201
    body = response.get_json()
    assert (body["status"], body["position"]) == ("waitlisted", 1)
    assert response.headers["Location"] == f"{enrollments_url(full_section['id'])}/{first['id']}"
    assert client.get(response.headers["Location"]).get_json() == body
    assert (later["status"], later["position"]) == ("waitlisted", 2)


def test_seats_count_the_seated_only_and_the_section_shows_its_line(client, full_section):
    enroll(client, full_section["id"], make_student(client)["id"])

    section = client.get(f"{SECTIONS}/{full_section['id']}").get_json()

    assert (section["enrolled"], section["seats_left"], section["waitlisted"]) == (1, 0, 1)


def test_a_freed_seat_is_kept_for_the_next_in_line_not_for_a_newcomer(client, full_section):
    waiting = make_student(client)
    enroll(client, full_section["id"], waiting["id"])
    drop(client, full_section["id"], full_section["seated"])
    newcomer = make_student(client)

    joined = enroll(client, full_section["id"], newcomer["id"])

    assert (joined["status"], joined["position"]) == ("waitlisted", 2)
    assert positions(client, full_section["id"]) == {
        waiting["id"]: ("waitlisted", 1),
        newcomer["id"]: ("waitlisted", 2),
    }
    section = client.get(f"{SECTIONS}/{full_section['id']}").get_json()
    assert (section["enrolled"], section["seats_left"], section["waitlisted"]) == (0, 1, 2)


def test_leaving_the_line_moves_everyone_behind_up_without_gaps(client, full_section):
    line = [make_student(client) for _ in range(4)]
    for student in line:
        enroll(client, full_section["id"], student["id"])

    drop(client, full_section["id"], line[1]["id"])

    assert positions(client, full_section["id"]) == {
        full_section["seated"]: ("enrolled", None),
        line[0]["id"]: ("waitlisted", 1),
        line[2]["id"]: ("waitlisted", 2),
        line[3]["id"]: ("waitlisted", 3),
    }
    fetched = client.get(f"{enrollments_url(full_section['id'])}/{line[3]['id']}").get_json()
    assert fetched["position"] == 3


def test_waiting_twice_is_409_and_changes_nothing(client, db, full_section):
    student = make_student(client)
    enroll(client, full_section["id"], student["id"])

    problem = assert_problem(
        client.post(enrollments_url(full_section["id"]), json={"student_id": student["id"]}), 409
    )

    assert "waitlist" in problem["detail"]
    assert positions(client, full_section["id"])[student["id"]] == ("waitlisted", 1)


def test_a_clash_with_a_section_the_student_waits_for_is_409(client, full_section):
    student = make_student(client)
    enroll(client, full_section["id"], student["id"])
    same_time = make_section(client)  # MON/WED 09:00–10:15, like the full one

    problem = assert_problem(
        client.post(enrollments_url(same_time["id"]), json={"student_id": student["id"]}), 409
    )

    assert str(full_section["id"]) in problem["detail"]


def test_the_credits_of_a_section_the_student_waits_for_count(client):
    heavy = make_course(client, credits=12)
    full = make_section(client, course_id=heavy["id"], capacity=1)
    enroll(client, full["id"], make_student(client)["id"])
    student = make_student(client)
    enroll(client, full["id"], student["id"])  # waiting for 12 credits
    seven = make_section(
        client,
        course_id=make_course(client, credits=7)["id"],
        starts_at="14:00",
        ends_at="15:00",
    )

    problem = assert_problem(
        client.post(enrollments_url(seven["id"]), json={"student_id": student["id"]}), 409
    )

    assert "19 credits" in problem["detail"]


def test_roster_lists_the_seated_first_then_the_line_in_order(client, full_section):
    line = [make_student(client) for _ in range(2)]
    for student in line:
        enroll(client, full_section["id"], student["id"])

    body = client.get(enrollments_url(full_section["id"])).get_json()

    assert [
        (item["student"]["id"], item["status"], item["position"]) for item in body["items"]
    ] == [
        (full_section["seated"], "enrolled", None),
        (line[0]["id"], "waitlisted", 1),
        (line[1]["id"], "waitlisted", 2),
    ]
    assert body["total"] == 3


def test_the_schedule_shows_the_sections_waited_for_with_the_position(client, full_section):
    student = make_student(client)
    enroll(client, full_section["id"], make_student(client)["id"])
    enroll(client, full_section["id"], student["id"])
    seated = make_section(client, starts_at="14:00", ends_at="15:00")
    enroll(client, seated["id"], student["id"])

    items = client.get(f"{STUDENTS}/{student['id']}/schedule").get_json()["items"]

    assert [(item["id"], item["enrollment"]) for item in items] == [
        (full_section["id"], {"status": "waitlisted", "position": 2}),
        (seated["id"], {"status": "enrolled", "position": None}),
    ]
