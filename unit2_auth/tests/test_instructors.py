"""/api/v1/instructors: list paging, create, read, partial update and delete; emails unique
whatever their case; every failed write shown to leave the database as it was."""

from urllib.parse import urlsplit

import pytest
from helpers import (
    assert_problem,
    count_rows,
    db_snapshot,
    fetch_row,
    instructor_body,
    make_instructor,
    make_section,
)

INSTRUCTORS = "/api/v1/instructors"


def insert_instructors(db, how_many: int) -> list[int]:
    """Insert `how_many` instructors straight into the database; return their ids in order."""
    rows = db.execute(
        "INSERT INTO instructors (full_name, email) "
        "SELECT 'Bulk ' || n, 'bulk' || n || '@example.edu' FROM generate_series(1, %s) AS n "
        "RETURNING id",
        (how_many,),
    ).fetchall()
    return sorted(row["id"] for row in rows)


# --- list ---------------------------------------------------------------------------------


def test_list_instructors_when_there_are_none_is_an_empty_envelope(client):
    response = client.get(INSTRUCTORS)

    assert response.status_code == 200
    assert response.get_json() == {"items": [], "total": 0, "limit": 20, "offset": 0}


def test_list_instructors_returns_full_objects_in_id_order(client):
    first = make_instructor(client)
    second = make_instructor(client)

    body = client.get(INSTRUCTORS).get_json()

    assert body["items"] == [first, second]
    assert body["total"] == 2


def test_list_instructors_defaults_to_20_items_and_counts_them_all(client, db):
    ids = insert_instructors(db, 23)

    body = client.get(INSTRUCTORS).get_json()

    assert [item["id"] for item in body["items"]] == ids[:20]
    assert (body["total"], body["limit"], body["offset"]) == (23, 20, 0)


def test_list_instructors_pages_with_limit_and_offset(client, db):
    ids = insert_instructors(db, 5)

    body = client.get(f"{INSTRUCTORS}?limit=3&offset=1").get_json()

    assert [item["id"] for item in body["items"]] == ids[1:4]
    assert (body["total"], body["limit"], body["offset"]) == (5, 3, 1)


def test_list_instructors_accepts_the_limit_bounds_1_and_100(client, db):
    ids = insert_instructors(db, 101)

    one = client.get(f"{INSTRUCTORS}?limit=1").get_json()
    hundred = client.get(f"{INSTRUCTORS}?limit=100").get_json()

    assert [item["id"] for item in one["items"]] == ids[:1]
    assert [item["id"] for item in hundred["items"]] == ids[:100]


def test_list_instructors_with_offset_past_the_end_is_an_empty_page(client, db):
    insert_instructors(db, 1)

    body = client.get(f"{INSTRUCTORS}?limit=5&offset=1").get_json()

    assert body == {"items": [], "total": 1, "limit": 5, "offset": 1}


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "limit=x", "limit=-5", "offset=-1", "offset=one"]
)
def test_list_instructors_with_a_bad_paging_parameter_is_400_problem(client, query):
    assert_problem(client.get(f"{INSTRUCTORS}?{query}"), 400, errors=True)


# --- create -------------------------------------------------------------------------------


def test_create_instructor_is_201_with_location_that_gets_the_same_instructor(client, db):
    response = client.post(
        INSTRUCTORS, json={"full_name": "Ada Lovelace", "email": "ada@example.edu"}
    )

    assert response.status_code == 201
    created = response.get_json()
    assert created == {
        "id": created["id"],
        "full_name": "Ada Lovelace",
        "email": "ada@example.edu",
    }
    location = urlsplit(response.headers["Location"]).path
    assert location == f"{INSTRUCTORS}/{created['id']}"
    assert client.get(location).get_json() == created
    assert fetch_row(db, "instructors", created["id"]) == created


def test_create_instructor_trims_name_and_email(client):
    created = make_instructor(client, full_name="  Ada  ", email=" ada@example.edu ")

    assert (created["full_name"], created["email"]) == ("Ada", "ada@example.edu")


@pytest.mark.parametrize(
    ("existing", "duplicate"),
    [
        ("a@x.edu", "a@x.edu"),
        ("A@x.edu", "a@x.edu"),
        ("a@x.edu", "A@X.EDU"),
    ],
)
def test_create_instructor_with_duplicate_email_in_any_case_is_409_and_changes_nothing(
    client, db, existing, duplicate
):
    make_instructor(client, email=existing)
    before = db_snapshot(db)

    response = client.post(INSTRUCTORS, json=instructor_body(email=duplicate))

    assert "email" in assert_problem(response, 409)["detail"]
    assert db_snapshot(db) == before
    assert count_rows(db, "instructors") == 1


def test_create_instructor_without_any_field_is_422_naming_each_required_one(client, db):
    body = assert_problem(client.post(INSTRUCTORS, json={}), 422)

    assert set(body["errors"]) == {"full_name", "email"}
    assert count_rows(db, "instructors") == 0


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
def test_create_instructor_with_an_invalid_field_is_422_naming_it_and_changes_nothing(
    client, db, field, value
):
    response = client.post(INSTRUCTORS, json=instructor_body(**{field: value}))

    assert list(assert_problem(response, 422)["errors"]) == [field]
    assert count_rows(db, "instructors") == 0


def test_create_instructor_with_unknown_fields_is_422_naming_each(client, db):
    response = client.post(INSTRUCTORS, json=instructor_body(role="admin", id=3))

    assert set(assert_problem(response, 422)["errors"]) == {"role", "id"}
    assert count_rows(db, "instructors") == 0


def test_create_instructor_with_several_bad_fields_names_every_one(client, db):
    response = client.post(INSTRUCTORS, json={"full_name": "", "email": "x", "phone": "1"})

    assert set(assert_problem(response, 422)["errors"]) == {"full_name", "email", "phone"}
    assert count_rows(db, "instructors") == 0


# --- read ---------------------------------------------------------------------------------


def test_get_instructor_is_200_with_the_instructor(client):
    instructor = make_instructor(client)

    response = client.get(f"{INSTRUCTORS}/{instructor['id']}")

    assert response.status_code == 200
    assert response.get_json() == instructor


def test_get_unknown_instructor_is_404_problem(client):
    assert "123" in assert_problem(client.get(f"{INSTRUCTORS}/123"), 404)["detail"]


# --- update -------------------------------------------------------------------------------


def test_patch_instructor_changes_only_the_named_field(client, db):
    instructor = make_instructor(client, full_name="Ada", email="ada@example.edu")
    other = make_instructor(client)

    response = client.patch(f"{INSTRUCTORS}/{instructor['id']}", json={"full_name": "Ada L."})

    assert response.status_code == 200
    expected = {**instructor, "full_name": "Ada L."}
    assert response.get_json() == expected
    assert fetch_row(db, "instructors", instructor["id"]) == expected
    assert fetch_row(db, "instructors", other["id"]) == other


def test_patch_instructor_email_changes_only_the_email(client, db):
    instructor = make_instructor(client, full_name="Ada", email="ada@example.edu")

    response = client.patch(f"{INSTRUCTORS}/{instructor['id']}", json={"email": "al@example.edu"})

    assert response.status_code == 200
    expected = {**instructor, "email": "al@example.edu"}
    assert response.get_json() == expected
    assert fetch_row(db, "instructors", instructor["id"]) == expected


def test_patch_instructor_may_change_the_case_of_its_own_email(client):
    instructor = make_instructor(client, email="ada@example.edu")

    response = client.patch(f"{INSTRUCTORS}/{instructor['id']}", json={"email": "Ada@example.edu"})

    assert response.status_code == 200
    assert response.get_json()["email"] == "Ada@example.edu"


def test_patch_instructor_with_empty_body_is_a_no_op(client, db):
    instructor = make_instructor(client)
    before = db_snapshot(db)

    response = client.patch(f"{INSTRUCTORS}/{instructor['id']}", json={})

    assert response.status_code == 200
    assert response.get_json() == instructor
    assert db_snapshot(db) == before


def test_patch_instructor_with_an_unknown_field_is_422_and_changes_nothing(client, db):
    instructor = make_instructor(client)
    before = db_snapshot(db)

    response = client.patch(
        f"{INSTRUCTORS}/{instructor['id']}", json={"full_name": "New", "office": "B2"}
    )

    assert list(assert_problem(response, 422)["errors"]) == ["office"]
    assert db_snapshot(db) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [("full_name", ""), ("full_name", None), ("email", "nope"), ("email", None), ("email", 1)],
)
def test_patch_instructor_with_an_invalid_field_is_422_naming_it_and_changes_nothing(
    client, db, field, value
):
    instructor = make_instructor(client)
    before = db_snapshot(db)

    response = client.patch(f"{INSTRUCTORS}/{instructor['id']}", json={field: value})

    assert list(assert_problem(response, 422)["errors"]) == [field]
    assert db_snapshot(db) == before


def test_patch_instructor_to_another_email_in_other_case_is_409_and_changes_nothing(client, db):
    make_instructor(client, email="A@x.edu")
    instructor = make_instructor(client, email="b@x.edu")
    before = db_snapshot(db)

    response = client.patch(
        f"{INSTRUCTORS}/{instructor['id']}", json={"email": "a@x.edu", "full_name": "New"}
    )

    assert_problem(response, 409)
    assert db_snapshot(db) == before


def test_patch_unknown_instructor_is_404_and_changes_nothing(client, db):
    make_instructor(client)
    before = db_snapshot(db)

    assert_problem(client.patch(f"{INSTRUCTORS}/999", json={"full_name": "New"}), 404)
    assert_problem(client.patch(f"{INSTRUCTORS}/999", json={}), 404)

    assert db_snapshot(db) == before


# --- delete -------------------------------------------------------------------------------


def test_delete_instructor_is_204_then_404(client, db):
    instructor = make_instructor(client)
    other = make_instructor(client)

    response = client.delete(f"{INSTRUCTORS}/{instructor['id']}")

    assert response.status_code == 204
    assert response.get_data() == b""
    assert fetch_row(db, "instructors", instructor["id"]) is None
    assert fetch_row(db, "instructors", other["id"]) == other
    assert_problem(client.get(f"{INSTRUCTORS}/{instructor['id']}"), 404)
    assert_problem(client.delete(f"{INSTRUCTORS}/{instructor['id']}"), 404)


def test_deleted_instructors_email_can_be_used_again(client):
    instructor = make_instructor(client, email="ada@example.edu")
    client.delete(f"{INSTRUCTORS}/{instructor['id']}")

    assert make_instructor(client, email="ADA@example.edu")["id"] != instructor["id"]


def test_delete_unknown_instructor_is_404_and_changes_nothing(client, db):
    make_instructor(client)
    before = db_snapshot(db)

    assert_problem(client.delete(f"{INSTRUCTORS}/999"), 404)

    assert db_snapshot(db) == before


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
