"""/api/v1/students: what only students have — one holding an enrollment cannot be deleted
(the refusal leaves the database as it was), one who dropped it can; since Unit 2, the email
is also the student's login. List paging, create, read, partial update and delete, the same
for instructors, are tested for both in test_people.py. The requests are an admin's: since
Unit 2, only an admin may list students or reach another student's record."""

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


# --- Unit 2: the email is also the login ----------------------------------------------------


def test_a_student_may_rename_themselves_but_not_change_their_email(make_user, client_for, db):
    user = make_user("student")
    student = client_for(user)
    url = f"{STUDENTS}/{user['student_id']}"

    assert student.patch(url, json={"full_name": "New Name"}).status_code == 200
    refused = student.patch(url, json={"email": "elsewhere@example.edu"})

    assert_problem(refused, 403)
    assert fetch_row(db, "students", user["student_id"])["email"] == user["email"]


def test_an_admins_email_change_moves_the_login_too(client, anonymous_client, make_user, db):
    user = make_user("student")

    response = client.patch(f"{STUDENTS}/{user['student_id']}", json={"email": "moved@example.edu"})

    assert response.status_code == 200
    login = db.execute("SELECT email FROM users WHERE id = %s", (user["id"],)).fetchone()
    assert login["email"] == "moved@example.edu"


def test_deleting_a_student_deletes_their_account(client, make_user, db):
    user = make_user("student")

    assert client.delete(f"{STUDENTS}/{user['student_id']}").status_code == 204
    assert (
        db.execute("SELECT count(*) AS n FROM users WHERE id = %s", (user["id"],)).fetchone()["n"]
        == 0
    )
