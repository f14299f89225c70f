"""/api/v1/instructors: what only instructors have — one teaching a section cannot be deleted,
and the refusal leaves the database as it was. List paging, create, read, partial update and
delete, the same for students, are tested for both in test_people.py."""

from helpers import assert_problem, db_snapshot, fetch_row, make_instructor, make_section

INSTRUCTORS = "/api/v1/instructors"


def test_delete_instructor_teaching_a_section_is_409_and_keeps_them(client, db):
    instructor = make_instructor(client)
    make_section(client, instructor_id=instructor["id"])
    before = db_snapshot(db)

    body = assert_problem(client.delete(f"{INSTRUCTORS}/{instructor['id']}"), 409)

    assert "referenced" in body["detail"]
    assert db_snapshot(db) == before
    assert fetch_row(db, "instructors", instructor["id"]) == instructor
