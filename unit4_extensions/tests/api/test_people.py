"""/api/v1/instructors and /api/v1/students, the two people resources: the same shape
{id, full_name, email} and the same rules, so each test here runs once for each of them —
list paging, create, read, partial update and delete; emails unique whatever their case;
every failed write shown to leave the database as it was. What only one of them has (the
references that keep an instructor or a student from being deleted and, since Unit 2, the
login that shares the email) is in test_instructors.py and test_students.py. The requests
are an admin's: since Unit 2, only an admin may list students or reach another's record."""

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from helpers import (
    assert_problem,
    count_rows,
    db_snapshot,
    fetch_row,
    instructor_body,
    make_instructor,
    make_student,
    student_body,
)
from psycopg import sql


@dataclass(frozen=True)
class Person:
    """One people resource: its URL, its table, its create helpers (`make` POSTs a valid body,
    `body` only builds one) and a field it does not have, with a value to try."""

    path: str
    table: str
    make: Callable[..., dict]
    body: Callable[..., dict]
    unknown_field: tuple[str, str]


INSTRUCTORS = Person(
    "/api/v1/instructors", "instructors", make_instructor, instructor_body, ("office", "B2")
)
STUDENTS = Person("/api/v1/students", "students", make_student, student_body, ("major", "CS"))


@pytest.fixture(params=[INSTRUCTORS, STUDENTS], ids=lambda person: person.table)
def person(request) -> Person:
    """Each test runs once for instructors and once for students."""
    return request.param


def insert_people(db, person: Person, how_many: int) -> list[int]:
    """Insert `how_many` rows straight into the person's table; return their ids in order."""
    query = sql.SQL(
        "INSERT INTO {} (full_name, email) "
        "SELECT 'Bulk ' || n, 'bulk' || n || '@example.edu' FROM generate_series(1, %s) AS n "
        "RETURNING id"
    ).format(sql.Identifier(person.table))
    rows = db.execute(query, (how_many,)).fetchall()
    return sorted(row["id"] for row in rows)


# --- list ---------------------------------------------------------------------------------


def test_list_people_when_there_are_none_is_an_empty_envelope(client, person):
    response = client.get(person.path)

    assert response.status_code == 200
    assert response.get_json() == {"items": [], "total": 0, "limit": 20, "offset": 0}


def test_list_people_returns_full_objects_in_id_order(client, person):
    first = person.make(client)
    second = person.make(client)

    body = client.get(person.path).get_json()

    assert body["items"] == [first, second]
    assert body["total"] == 2


def test_list_people_defaults_to_20_items_and_counts_them_all(client, db, person):
    ids = insert_people(db, person, 23)

    body = client.get(person.path).get_json()

    assert [item["id"] for item in body["items"]] == ids[:20]
    assert (body["total"], body["limit"], body["offset"]) == (23, 20, 0)


def test_list_people_pages_with_limit_and_offset(client, db, person):
    ids = insert_people(db, person, 5)

    body = client.get(f"{person.path}?limit=3&offset=1").get_json()

    assert [item["id"] for item in body["items"]] == ids[1:4]
    assert (body["total"], body["limit"], body["offset"]) == (5, 3, 1)


def test_list_people_accepts_the_limit_bounds_1_and_100(client, db, person):
    ids = insert_people(db, person, 101)

    one = client.get(f"{person.path}?limit=1").get_json()
    hundred = client.get(f"{person.path}?limit=100").get_json()

    assert [item["id"] for item in one["items"]] == ids[:1]
    assert [item["id"] for item in hundred["items"]] == ids[:100]


def test_list_people_with_offset_past_the_end_is_an_empty_page(client, db, person):
    insert_people(db, person, 1)

    body = client.get(f"{person.path}?limit=5&offset=1").get_json()

    assert body == {"items": [], "total": 1, "limit": 5, "offset": 1}


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "limit=x", "limit=-5", "offset=-1", "offset=one"]
)
def test_list_people_with_a_bad_paging_parameter_is_400_problem(client, person, query):
    assert_problem(client.get(f"{person.path}?{query}"), 400, errors=True)


# --- create -------------------------------------------------------------------------------


def test_create_person_is_201_with_location_that_gets_the_same_person(client, db, person):
    response = client.post(
        person.path, json={"full_name": "Ada Lovelace", "email": "ada@example.edu"}
    )

    assert response.status_code == 201
    created = response.get_json()
    assert created == {
        "id": created["id"],
        "full_name": "Ada Lovelace",
        "email": "ada@example.edu",
    }
    location = urlsplit(response.headers["Location"]).path
    assert location == f"{person.path}/{created['id']}"
    assert client.get(location).get_json() == created
    assert fetch_row(db, person.table, created["id"]) == created


def test_create_person_trims_name_and_email(client, person):
    created = person.make(client, full_name="  Ada  ", email=" ada@example.edu ")

    assert (created["full_name"], created["email"]) == ("Ada", "ada@example.edu")


@pytest.mark.parametrize(
    ("existing", "duplicate"),
    [
        ("a@x.edu", "a@x.edu"),
        ("A@x.edu", "a@x.edu"),
        ("a@x.edu", "A@X.EDU"),
    ],
)
def test_create_person_with_duplicate_email_in_any_case_is_409_and_changes_nothing(
    client, db, person, existing, duplicate
):
    person.make(client, email=existing)
    before = db_snapshot(db)

    response = client.post(person.path, json=person.body(email=duplicate))

    assert "email" in assert_problem(response, 409)["detail"]
    assert db_snapshot(db) == before
    assert count_rows(db, person.table) == 1


def test_create_person_without_any_field_is_422_naming_each_required_one(client, db, person):
    body = assert_problem(client.post(person.path, json={}), 422)

    assert set(body["errors"]) == {"full_name", "email"}
    assert count_rows(db, person.table) == 0


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
def test_create_person_with_an_invalid_field_is_422_naming_it_and_changes_nothing(
    client, db, person, field, value
):
    response = client.post(person.path, json=person.body(**{field: value}))

    assert list(assert_problem(response, 422)["errors"]) == [field]
    assert count_rows(db, person.table) == 0


def test_create_person_with_unknown_fields_is_422_naming_each(client, db, person):
    response = client.post(person.path, json=person.body(role="admin", id=3))

    assert set(assert_problem(response, 422)["errors"]) == {"role", "id"}
    assert count_rows(db, person.table) == 0


def test_create_person_with_several_bad_fields_names_every_one(client, db, person):
    response = client.post(person.path, json={"full_name": "", "email": "x", "phone": "1"})

    assert set(assert_problem(response, 422)["errors"]) == {"full_name", "email", "phone"}
    assert count_rows(db, person.table) == 0


# --- read ---------------------------------------------------------------------------------


def test_get_person_is_200_with_the_person(client, person):
    created = person.make(client)

    response = client.get(f"{person.path}/{created['id']}")

    assert response.status_code == 200
    assert response.get_json() == created


def test_get_unknown_person_is_404_problem(client, person):
    assert "123" in assert_problem(client.get(f"{person.path}/123"), 404)["detail"]


# --- update -------------------------------------------------------------------------------


def test_patch_person_changes_only_the_named_field(client, db, person):
    created = person.make(client, full_name="Ada", email="ada@example.edu")
    other = person.make(client)

    response = client.patch(f"{person.path}/{created['id']}", json={"full_name": "Ada L."})

    assert response.status_code == 200
    expected = {**created, "full_name": "Ada L."}
    assert response.get_json() == expected
    assert fetch_row(db, person.table, created["id"]) == expected
    assert fetch_row(db, person.table, other["id"]) == other


def test_patch_person_email_changes_only_the_email(client, db, person):
    created = person.make(client, full_name="Ada", email="ada@example.edu")

    response = client.patch(f"{person.path}/{created['id']}", json={"email": "al@example.edu"})

    assert response.status_code == 200
    expected = {**created, "email": "al@example.edu"}
    assert response.get_json() == expected
    assert fetch_row(db, person.table, created["id"]) == expected


def test_patch_person_may_change_the_case_of_its_own_email(client, person):
    created = person.make(client, email="ada@example.edu")

    response = client.patch(f"{person.path}/{created['id']}", json={"email": "Ada@example.edu"})

    assert response.status_code == 200
    assert response.get_json()["email"] == "Ada@example.edu"


def test_patch_person_with_empty_body_is_a_no_op(client, db, person):
    created = person.make(client)
    before = db_snapshot(db)

    response = client.patch(f"{person.path}/{created['id']}", json={})

    assert response.status_code == 200
    assert response.get_json() == created
    assert db_snapshot(db) == before


def test_patch_person_with_an_unknown_field_is_422_and_changes_nothing(client, db, person):
    created = person.make(client)
    field, value = person.unknown_field
    before = db_snapshot(db)

    response = client.patch(
        f"{person.path}/{created['id']}", json={"full_name": "New", field: value}
    )

    assert list(assert_problem(response, 422)["errors"]) == [field]
    assert db_snapshot(db) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [("full_name", ""), ("full_name", None), ("email", "nope"), ("email", None), ("email", 1)],
)
def test_patch_person_with_an_invalid_field_is_422_naming_it_and_changes_nothing(
    client, db, person, field, value
):
    created = person.make(client)
    before = db_snapshot(db)

    response = client.patch(f"{person.path}/{created['id']}", json={field: value})

    assert list(assert_problem(response, 422)["errors"]) == [field]
    assert db_snapshot(db) == before


def test_patch_person_to_another_email_in_other_case_is_409_and_changes_nothing(client, db, person):
    person.make(client, email="A@x.edu")
    created = person.make(client, email="b@x.edu")
    before = db_snapshot(db)

    response = client.patch(
        f"{person.path}/{created['id']}", json={"email": "a@x.edu", "full_name": "New"}
    )

    assert_problem(response, 409)
    assert db_snapshot(db) == before


def test_patch_unknown_person_is_404_and_changes_nothing(client, db, person):
    person.make(client)
    before = db_snapshot(db)

    assert_problem(client.patch(f"{person.path}/999", json={"full_name": "New"}), 404)
    assert_problem(client.patch(f"{person.path}/999", json={}), 404)

    assert db_snapshot(db) == before


# --- delete -------------------------------------------------------------------------------


def test_delete_person_is_204_then_404(client, db, person):
    created = person.make(client)
    other = person.make(client)

    response = client.delete(f"{person.path}/{created['id']}")

    assert response.status_code == 204
    assert response.get_data() == b""
    assert fetch_row(db, person.table, created["id"]) is None
    assert fetch_row(db, person.table, other["id"]) == other
    assert_problem(client.get(f"{person.path}/{created['id']}"), 404)
    assert_problem(client.delete(f"{person.path}/{created['id']}"), 404)


def test_deleted_persons_email_can_be_used_again(client, person):
    created = person.make(client, email="ada@example.edu")
    client.delete(f"{person.path}/{created['id']}")

    assert person.make(client, email="ADA@example.edu")["id"] != created["id"]


def test_delete_unknown_person_is_404_and_changes_nothing(client, db, person):
    person.make(client)
    before = db_snapshot(db)

    assert_problem(client.delete(f"{person.path}/999"), 404)

    assert db_snapshot(db) == before
