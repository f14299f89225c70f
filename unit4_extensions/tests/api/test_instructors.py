"""/api/v1/instructors: what only instructors have — one teaching a section cannot be deleted,
and the refusal leaves the database as it was; since Unit 2, the email is also the
instructor's login, so changing it moves the login and deleting them deletes the account.
List paging, create, read, partial update and delete, the same for students, are tested for
both in test_people.py."""

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


def test_an_email_change_moves_the_instructors_login_too(client, make_user, db):
    user = make_user("instructor")

    response = client.patch(
        f"{INSTRUCTORS}/{user['instructor_id']}", json={"email": "moved@example.edu"}
    )

    assert response.status_code == 200
    login = db.execute("SELECT email FROM users WHERE id = %s", (user["id"],)).fetchone()
    assert login["email"] == "moved@example.edu"


def test_deleting_an_instructor_deletes_their_account(client, make_user, db):
    user = make_user("instructor")

    assert client.delete(f"{INSTRUCTORS}/{user['instructor_id']}").status_code == 204
    remaining = db.execute("SELECT count(*) AS n FROM users WHERE id = %s", (user["id"],))
    assert remaining.fetchone()["n"] == 0
