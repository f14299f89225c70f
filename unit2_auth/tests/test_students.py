"""/api/v1/students: list paging, create, read, partial update and delete; emails unique
whatever their case; a student holding an enrollment cannot be deleted; every failed write
shown to leave the database as it was. The requests are an admin's: since Unit 2, only an admin
may list students or reach another student's record."""

from urllib.parse import urlsplit

import pytest
from helpers import (
    assert_problem,
    count_rows,
    db_snapshot,
    fetch_row,
    make_section,
    make_student,
    student_body,
)

STUDENTS = "/api/v1/students"


def insert_students(db, how_many: int) -> list[int]:
    """Insert `how_many` students straight into the database; return their ids in order."""
    rows = db.execute(
        "INSERT INTO students (full_name, email) "
        "SELECT 'Bulk ' || n, 'bulk' || n || '@example.edu' FROM generate_series(1, %s) AS n "
        "RETURNING id",
        (how_many,),
    ).fetchall()
    return sorted(row["id"] for row in rows)


# --- list ---------------------------------------------------------------------------------


def test_list_students_when_there_are_none_is_an_empty_envelope(client):
    response = client.get(STUDENTS)

    assert response.status_code == 200
    assert response.get_json() == {"items": [], "total": 0, "limit": 20, "offset": 0}


def test_list_students_returns_full_objects_in_id_order(client):
    first = make_student(client)
    second = make_student(client)

    body = client.get(STUDENTS).get_json()

    assert body["items"] == [first, second]
    assert body["total"] == 2


def test_list_students_defaults_to_20_items_and_counts_them_all(client, db):
    ids = insert_students(db, 23)

    body = client.get(STUDENTS).get_json()

    assert [item["id"] for item in body["items"]] == ids[:20]
    assert (body["total"], body["limit"], body["offset"]) == (23, 20, 0)


def test_list_students_pages_with_limit_and_offset(client, db):
    ids = insert_students(db, 5)

    body = client.get(f"{STUDENTS}?limit=3&offset=1").get_json()

    assert [item["id"] for item in body["items"]] == ids[1:4]
    assert (body["total"], body["limit"], body["offset"]) == (5, 3, 1)


def test_list_students_accepts_the_limit_bounds_1_and_100(client, db):
    ids = insert_students(db, 101)

    one = client.get(f"{STUDENTS}?limit=1").get_json()
    hundred = client.get(f"{STUDENTS}?limit=100").get_json()

    assert [item["id"] for item in one["items"]] == ids[:1]
    assert [item["id"] for item in hundred["items"]] == ids[:100]


def test_list_students_with_offset_past_the_end_is_an_empty_page(client, db):
    insert_students(db, 1)

    body = client.get(f"{STUDENTS}?limit=5&offset=1").get_json()

    assert body == {"items": [], "total": 1, "limit": 5, "offset": 1}


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "limit=x", "limit=-5", "offset=-1", "offset=one"]
)
def test_list_students_with_a_bad_paging_parameter_is_400_problem(client, query):
    assert_problem(client.get(f"{STUDENTS}?{query}"), 400, errors=True)


# --- create -------------------------------------------------------------------------------


def test_create_student_is_201_with_location_that_gets_the_same_student(client, db):
    response = client.post(STUDENTS, json={"full_name": "Ada Lovelace", "email": "ada@example.edu"})

    assert response.status_code == 201
    created = response.get_json()
    assert created == {
        "id": created["id"],
        "full_name": "Ada Lovelace",
        "email": "ada@example.edu",
    }
    location = urlsplit(response.headers["Location"]).path
    assert location == f"{STUDENTS}/{created['id']}"
    assert client.get(location).get_json() == created
    assert fetch_row(db, "students", created["id"]) == created


def test_create_student_trims_name_and_email(client):
    created = make_student(client, full_name="  Ada  ", email=" ada@example.edu ")

    assert (created["full_name"], created["email"]) == ("Ada", "ada@example.edu")


@pytest.mark.parametrize(
    ("existing", "duplicate"),
    [
        ("a@x.edu", "a@x.edu"),
        ("A@x.edu", "a@x.edu"),
        ("a@x.edu", "A@X.EDU"),
    ],
)
def test_create_student_with_duplicate_email_in_any_case_is_409_and_changes_nothing(
    client, db, existing, duplicate
):
    make_student(client, email=existing)
    before = db_snapshot(db)

    response = client.post(STUDENTS, json=student_body(email=duplicate))

    assert "email" in assert_problem(response, 409)["detail"]
    assert db_snapshot(db) == before
    assert count_rows(db, "students") == 1


def test_create_student_without_any_field_is_422_naming_each_required_one(client, db):
    body = assert_problem(client.post(STUDENTS, json={}), 422)

    assert set(body["errors"]) == {"full_name", "email"}
    assert count_rows(db, "students") == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("full_name", None),
        ("full_name", ""),
        ("full_name", "   "),
        ("full_name", 12),
        ("full_name", True),
        ("full_name", ["Ada"]),
        ("full_name", "x" * 201),
        ("email", None),
        ("email", ""),
        ("email", "   "),
        ("email", "not-an-email"),
        ("email", "ada@example"),
        ("email", "ada@@example.edu"),
        ("email", "ada lovelace@example.edu"),
        ("email", "@example.edu"),
        ("email", 5),
        ("email", "a" * 250 + "@x.edu"),
    ],
)
def test_create_student_with_an_invalid_field_is_422_naming_it_and_changes_nothing(
    client, db, field, value
):
    response = client.post(STUDENTS, json=student_body(**{field: value}))

    assert list(assert_problem(response, 422)["errors"]) == [field]
    assert count_rows(db, "students") == 0


def test_create_student_with_unknown_fields_is_422_naming_each(client, db):
    response = client.post(STUDENTS, json=student_body(role="admin", id=3))

    assert set(assert_problem(response, 422)["errors"]) == {"role", "id"}
    assert count_rows(db, "students") == 0


def test_create_student_with_several_bad_fields_names_every_one(client, db):
    response = client.post(STUDENTS, json={"full_name": "", "email": "x", "phone": "1"})

    assert set(assert_problem(response, 422)["errors"]) == {"full_name", "email", "phone"}
    assert count_rows(db, "students") == 0


# --- read ---------------------------------------------------------------------------------


def test_get_student_is_200_with_the_student(client):
    student = make_student(client)

    response = client.get(f"{STUDENTS}/{student['id']}")

    assert response.status_code == 200
    assert response.get_json() == student


def test_get_unknown_student_is_404_problem(client):
    assert "123" in assert_problem(client.get(f"{STUDENTS}/123"), 404)["detail"]


# --- update -------------------------------------------------------------------------------


def test_patch_student_changes_only_the_named_field(client, db):
    student = make_student(client, full_name="Ada", email="ada@example.edu")
    other = make_student(client)

    response = client.patch(f"{STUDENTS}/{student['id']}", json={"full_name": "Ada L."})

    assert response.status_code == 200
    expected = {**student, "full_name": "Ada L."}
    assert response.get_json() == expected
    assert fetch_row(db, "students", student["id"]) == expected
    assert fetch_row(db, "students", other["id"]) == other


def test_patch_student_email_changes_only_the_email(client, db):
    student = make_student(client, full_name="Ada", email="ada@example.edu")

    response = client.patch(f"{STUDENTS}/{student['id']}", json={"email": "al@example.edu"})

    assert response.status_code == 200
    expected = {**student, "email": "al@example.edu"}
    assert response.get_json() == expected
    assert fetch_row(db, "students", student["id"]) == expected


def test_patch_student_may_change_the_case_of_its_own_email(client):
    student = make_student(client, email="ada@example.edu")

    response = client.patch(f"{STUDENTS}/{student['id']}", json={"email": "Ada@example.edu"})

    assert response.status_code == 200
    assert response.get_json()["email"] == "Ada@example.edu"


def test_patch_student_with_empty_body_is_a_no_op(client, db):
    student = make_student(client)
    before = db_snapshot(db)

    response = client.patch(f"{STUDENTS}/{student['id']}", json={})

    assert response.status_code == 200
    assert response.get_json() == student
    assert db_snapshot(db) == before


def test_patch_student_with_an_unknown_field_is_422_and_changes_nothing(client, db):
    student = make_student(client)
    before = db_snapshot(db)

    response = client.patch(f"{STUDENTS}/{student['id']}", json={"full_name": "New", "major": "CS"})

    assert list(assert_problem(response, 422)["errors"]) == ["major"]
    assert db_snapshot(db) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [("full_name", ""), ("full_name", None), ("email", "nope"), ("email", None), ("email", 1)],
)
def test_patch_student_with_an_invalid_field_is_422_naming_it_and_changes_nothing(
    client, db, field, value
):
    student = make_student(client)
    before = db_snapshot(db)

    response = client.patch(f"{STUDENTS}/{student['id']}", json={field: value})

    assert list(assert_problem(response, 422)["errors"]) == [field]
    assert db_snapshot(db) == before


def test_patch_student_to_another_email_in_other_case_is_409_and_changes_nothing(client, db):
    make_student(client, email="A@x.edu")
    student = make_student(client, email="b@x.edu")
    before = db_snapshot(db)

    response = client.patch(
        f"{STUDENTS}/{student['id']}", json={"email": "a@x.edu", "full_name": "New"}
    )

    assert_problem(response, 409)
    assert db_snapshot(db) == before


def test_patch_unknown_student_is_404_and_changes_nothing(client, db):
    make_student(client)
    before = db_snapshot(db)

    assert_problem(client.patch(f"{STUDENTS}/999", json={"full_name": "New"}), 404)
    assert_problem(client.patch(f"{STUDENTS}/999", json={}), 404)

    assert db_snapshot(db) == before


# --- delete -------------------------------------------------------------------------------


def test_delete_student_is_204_then_404(client, db):
    student = make_student(client)
    other = make_student(client)

    response = client.delete(f"{STUDENTS}/{student['id']}")

    assert response.status_code == 204
    assert response.get_data() == b""
    assert fetch_row(db, "students", student["id"]) is None
    assert fetch_row(db, "students", other["id"]) == other
    assert_problem(client.get(f"{STUDENTS}/{student['id']}"), 404)
    assert_problem(client.delete(f"{STUDENTS}/{student['id']}"), 404)


def test_deleted_students_email_can_be_used_again(client):
    student = make_student(client, email="ada@example.edu")
    client.delete(f"{STUDENTS}/{student['id']}")

    assert make_student(client, email="ADA@example.edu")["id"] != student["id"]


def test_delete_unknown_student_is_404_and_changes_nothing(client, db):
    make_student(client)
    before = db_snapshot(db)

    assert_problem(client.delete(f"{STUDENTS}/999"), 404)

    assert db_snapshot(db) == before


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
