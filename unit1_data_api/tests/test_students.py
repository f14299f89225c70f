"""/api/v1/students: what only students have — one holding an enrollment cannot be deleted
(the refusal leaves the database as it was), one who dropped it can. List paging, create,
read, partial update and delete, the same for instructors, are tested for both in
test_people.py."""

from helpers import (
    assert_problem,
    count_rows,
    db_snapshot,
    fetch_row,
    make_section,
    make_student,
)

STUDENTS = "/api/v1/students"


def test_delete_enrolled_student_is_409_and_keeps_them_and_the_enrollment(client, db):
    student = make_student(client)
    section = make_section(client)
    enrolled = client.post(
        f"/api/v1/sections/{section['id']}/enrollments", json={"student_id": student["id"]}
    )
    assert enrolled.status_code == 201
    before = db_snapshot(db)

    body = assert_problem(client.delete(f"{STUDENTS}/{student['id']}"), 409)

    assert "referenced" in body["detail"]
    assert db_snapshot(db) == before
    assert fetch_row(db, "students", student["id"]) == student
    assert count_rows(db, "enrollments") == 1


def test_delete_student_after_dropping_their_enrollment_is_204(client, db):
    student = make_student(client)
    section = make_section(client)
    roster = f"/api/v1/sections/{section['id']}/enrollments"
    client.post(roster, json={"student_id": student["id"]})
    assert client.delete(f"{roster}/{student['id']}").status_code == 204

    assert client.delete(f"{STUDENTS}/{student['id']}").status_code == 204
    assert fetch_row(db, "students", student["id"]) is None
