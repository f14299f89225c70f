"""/api/v1/courses: list paging, create, read, partial update and delete, with every failed
write shown to leave the database as it was."""

from urllib.parse import urlsplit

import pytest
from helpers import (
    assert_problem,
    count_rows,
    course_body,
    db_snapshot,
    fetch_row,
    make_course,
    make_section,
)

COURSES = "/api/v1/courses"


def insert_courses(db, how_many: int) -> list[int]:
    """Insert `how_many` courses straight into the database; return their ids in order."""
    rows = db.execute(
        "INSERT INTO courses (code, title, credits) "
        "SELECT 'BULK' || (1000 + n), 'Bulk ' || n, 3 FROM generate_series(1, %s) AS n "
        "RETURNING id",
        (how_many,),
    ).fetchall()
    return sorted(row["id"] for row in rows)


# --- list ---------------------------------------------------------------------------------


def test_list_courses_of_an_empty_catalog_is_an_empty_envelope(client):
    response = client.get(COURSES)

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {"items": [], "total": 0, "limit": 20, "offset": 0}


def test_list_courses_returns_full_objects_in_id_order(client):
    first = make_course(client)
    second = make_course(client)

    body = client.get(COURSES).get_json()

    assert body["items"] == [first, second]
    assert body["total"] == 2


def test_list_courses_defaults_to_20_items_and_counts_them_all(client, db):
    ids = insert_courses(db, 25)

    body = client.get(COURSES).get_json()

    assert [item["id"] for item in body["items"]] == ids[:20]
    assert (body["total"], body["limit"], body["offset"]) == (25, 20, 0)


def test_list_courses_pages_with_limit_and_offset(client, db):
    ids = insert_courses(db, 5)

    body = client.get(f"{COURSES}?limit=2&offset=3").get_json()

    assert [item["id"] for item in body["items"]] == ids[3:5]
    assert (body["total"], body["limit"], body["offset"]) == (5, 2, 3)


def test_list_courses_accepts_the_limit_bounds_1_and_100(client, db):
    ids = insert_courses(db, 101)

    one = client.get(f"{COURSES}?limit=1").get_json()
    hundred = client.get(f"{COURSES}?limit=100").get_json()

    assert [item["id"] for item in one["items"]] == ids[:1]
    assert [item["id"] for item in hundred["items"]] == ids[:100]
    assert (hundred["total"], hundred["limit"]) == (101, 100)


def test_list_courses_with_offset_past_the_end_is_an_empty_page(client, db):
    insert_courses(db, 2)

    body = client.get(f"{COURSES}?offset=10").get_json()

    assert body == {"items": [], "total": 2, "limit": 20, "offset": 10}


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "limit=-1",
        "limit=abc",
        "limit=2.5",
        "limit=",
        "limit=%201",
        "offset=-1",
        "offset=abc",
        "offset=1e3",
    ],
)
def test_list_courses_with_a_bad_paging_parameter_is_400_problem(client, query):
    body = assert_problem(client.get(f"{COURSES}?{query}"), 400, errors=True)

    assert list(body["errors"]) == [query.split("=")[0]]


# --- create -------------------------------------------------------------------------------


def test_create_course_is_201_with_location_that_gets_the_same_course(client, db):
    response = client.post(
        COURSES,
        json={"code": "CS101", "title": "Programming", "description": "Basics.", "credits": 4},
    )

    assert response.status_code == 201
    created = response.get_json()
    assert created == {
        "id": created["id"],
        "code": "CS101",
        "title": "Programming",
        "description": "Basics.",
        "credits": 4,
    }
    assert isinstance(created["id"], int)
    location = urlsplit(response.headers["Location"]).path
    assert location == f"{COURSES}/{created['id']}"
    assert client.get(location).get_json() == created
    assert fetch_row(db, "courses", created["id"]) == created


def test_create_course_upper_cases_and_trims_the_code(client, db):
    created = make_course(client, code="  ma2001b ")

    assert created["code"] == "MA2001B"
    assert fetch_row(db, "courses", created["id"])["code"] == "MA2001B"


def test_create_course_trims_the_title(client):
    assert make_course(client, title="  Algebra  ")["title"] == "Algebra"


def test_create_course_without_description_stores_an_empty_one(client):
    body = course_body()
    del body["description"]

    created = client.post(COURSES, json=body).get_json()

    assert created["description"] == ""


def test_create_course_accepts_a_blank_description(client):
    assert make_course(client, description="   ")["description"] == ""


@pytest.mark.parametrize("credits", [1, 12])
def test_create_course_accepts_credits_at_the_bounds(client, credits):
    assert make_course(client, credits=credits)["credits"] == credits


def test_create_course_with_duplicate_code_is_409_and_changes_nothing(client, db):
    make_course(client, code="CS101")
    before = db_snapshot(db)

    body = assert_problem(client.post(COURSES, json=course_body(code="CS101")), 409)

    assert "code" in body["detail"]
    assert db_snapshot(db) == before


def test_create_course_with_duplicate_code_in_other_case_is_409_and_changes_nothing(client, db):
    make_course(client, code="CS101")
    before = db_snapshot(db)

    assert_problem(client.post(COURSES, json=course_body(code="cs101")), 409)

    assert db_snapshot(db) == before
    assert count_rows(db, "courses") == 1


def test_create_course_without_any_field_is_422_naming_each_required_one(client, db):
    body = assert_problem(client.post(COURSES, json={}), 422)

    assert set(body["errors"]) == {"code", "title", "credits"}
    assert count_rows(db, "courses") == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("code", None),
        ("code", 101),
        ("code", ""),
        ("code", "   "),
        ("code", "C101"),
        ("code", "CS12"),
        ("code", "TOOLONG101"),
        ("code", "CS12345"),
        ("code", "CS 101"),
        ("code", "CS101AB"),
        ("title", None),
        ("title", ""),
        ("title", "   "),
        ("title", 42),
        ("title", "x" * 201),
        ("description", None),
        ("description", 7),
        ("description", "x" * 5001),
        ("credits", None),
        ("credits", 0),
        ("credits", 13),
        ("credits", -1),
        ("credits", "3"),
        ("credits", 3.0),
        ("credits", 3.5),
        ("credits", True),
        ("credits", False),
    ],
)
def test_create_course_with_an_invalid_field_is_422_naming_it_and_changes_nothing(
    client, db, field, value
):
    body = assert_problem(client.post(COURSES, json=course_body(**{field: value})), 422)

    assert list(body["errors"]) == [field]
    assert count_rows(db, "courses") == 0


def test_create_course_with_an_unknown_field_is_422_naming_it(client, db):
    body = assert_problem(client.post(COURSES, json=course_body(level="intro")), 422)

    assert list(body["errors"]) == ["level"]
    assert count_rows(db, "courses") == 0


def test_create_course_with_several_bad_fields_names_every_one(client, db):
    response = client.post(
        COURSES, json={"code": "1", "title": " ", "credits": True, "id": 5, "extra": 1}
    )

    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"code", "title", "credits", "id", "extra"}
    assert count_rows(db, "courses") == 0


def test_create_course_cannot_choose_its_id(client, db):
    body = assert_problem(client.post(COURSES, json=course_body(id=77)), 422)

    assert "id" in body["errors"]
    assert count_rows(db, "courses") == 0


# --- read ---------------------------------------------------------------------------------


def test_get_course_is_200_with_the_course(client):
    course = make_course(client)

    response = client.get(f"{COURSES}/{course['id']}")

    assert response.status_code == 200
    assert response.get_json() == course


def test_get_unknown_course_is_404_problem(client):
    make_course(client)

    body = assert_problem(client.get(f"{COURSES}/999"), 404)

    assert "999" in body["detail"]


# --- update -------------------------------------------------------------------------------


def test_patch_course_changes_only_the_named_fields(client, db):
    course = make_course(client, code="CS101", title="Old", description="Old text.", credits=3)
    other = make_course(client)

    response = client.patch(f"{COURSES}/{course['id']}", json={"title": "New", "credits": 5})

    assert response.status_code == 200
    expected = {**course, "title": "New", "credits": 5}
    assert response.get_json() == expected
    assert fetch_row(db, "courses", course["id"]) == expected
    assert fetch_row(db, "courses", other["id"]) == other


def test_patch_course_upper_cases_the_code(client, db):
    course = make_course(client)

    response = client.patch(f"{COURSES}/{course['id']}", json={"code": "bio200"})

    assert response.status_code == 200
    assert response.get_json()["code"] == "BIO200"
    assert fetch_row(db, "courses", course["id"])["code"] == "BIO200"


def test_patch_course_to_its_own_code_is_allowed(client):
    course = make_course(client, code="CS101")

    response = client.patch(f"{COURSES}/{course['id']}", json={"code": "cs101"})

    assert response.status_code == 200
    assert response.get_json() == course


def test_patch_course_with_empty_body_is_a_no_op(client, db):
    course = make_course(client)
    before = db_snapshot(db)

    response = client.patch(f"{COURSES}/{course['id']}", json={})

    assert response.status_code == 200
    assert response.get_json() == course
    assert db_snapshot(db) == before


def test_patch_course_with_an_unknown_field_is_422_and_changes_nothing(client, db):
    course = make_course(client)
    before = db_snapshot(db)

    response = client.patch(f"{COURSES}/{course['id']}", json={"title": "New", "level": 1})

    body = assert_problem(response, 422)
    assert list(body["errors"]) == ["level"]
    assert db_snapshot(db) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("code", "nope"),
        ("code", None),
        ("title", ""),
        ("title", None),
        ("description", None),
        ("credits", 0),
        ("credits", 13),
        ("credits", True),
        ("credits", "4"),
        ("id", 99),
    ],
)
def test_patch_course_with_an_invalid_field_is_422_naming_it_and_changes_nothing(
    client, db, field, value
):
    course = make_course(client)
    before = db_snapshot(db)

    response = client.patch(f"{COURSES}/{course['id']}", json={field: value})

    assert list(assert_problem(response, 422)["errors"]) == [field]
    assert db_snapshot(db) == before


def test_patch_course_to_a_duplicate_code_is_409_and_changes_nothing(client, db):
    make_course(client, code="CS101")
    course = make_course(client, code="CS102")
    before = db_snapshot(db)

    response = client.patch(f"{COURSES}/{course['id']}", json={"code": "cs101", "title": "T"})

    assert_problem(response, 409)
    assert db_snapshot(db) == before


def test_patch_unknown_course_is_404_and_changes_nothing(client, db):
    make_course(client)
    before = db_snapshot(db)

    assert_problem(client.patch(f"{COURSES}/999", json={"title": "New"}), 404)
    assert_problem(client.patch(f"{COURSES}/999", json={}), 404)

    assert db_snapshot(db) == before


# --- delete -------------------------------------------------------------------------------


def test_delete_course_is_204_then_404(client, db):
    course = make_course(client)
    other = make_course(client)

    response = client.delete(f"{COURSES}/{course['id']}")

    assert response.status_code == 204
    assert response.get_data() == b""
    assert fetch_row(db, "courses", course["id"]) is None
    assert fetch_row(db, "courses", other["id"]) == other
    assert_problem(client.get(f"{COURSES}/{course['id']}"), 404)
    assert_problem(client.delete(f"{COURSES}/{course['id']}"), 404)


def test_delete_unknown_course_is_404_and_changes_nothing(client, db):
    make_course(client)
    before = db_snapshot(db)

    assert_problem(client.delete(f"{COURSES}/999"), 404)

    assert db_snapshot(db) == before


def test_delete_course_used_by_a_section_is_409_and_keeps_it(client, db):
    course = make_course(client)
    make_section(client, course_id=course["id"])
    before = db_snapshot(db)

    body = assert_problem(client.delete(f"{COURSES}/{course['id']}"), 409)

    assert "referenced" in body["detail"]
    assert db_snapshot(db) == before
    assert fetch_row(db, "courses", course["id"]) == course
    assert client.get(f"{COURSES}/{course['id']}").status_code == 200


def test_create_course_with_a_nul_character_is_422_and_changes_nothing(client, db):
    response = client.post(COURSES, json=course_body(title="Intro\u0000duction"))

    problem = assert_problem(response, 422)
    assert problem["errors"] == {"title": ["Must not contain NUL characters."]}
    assert count_rows(db, "courses") == 0
