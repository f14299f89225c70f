"""The error table of DESIGN.md, row by row: every failure is an RFC 9457 problem
(`application/problem+json`, exactly type/title/status/detail, plus `errors` on 422 and on a
400 for a bad query parameter) with no stack trace, SQL or HTML, and a failed write leaves
nothing behind. The requests are an admin's, whom Unit 2's rules let do everything.

401, 403 and 429 (auth, roles and throttling) are tested with the auth tests, not here.
"""

import logging
import re

import pytest
from helpers import (
    assert_problem,
    count_rows,
    course_body,
    db_snapshot,
    make_course,
    make_instructor,
    make_room,
    make_section,
    make_student,
)

from scheduler_common.db import close_pool
from scheduler_common.testing import answer_once_recovered

API = "/api/v1"
COURSES = f"{API}/courses"
COLLECTIONS = ("courses", "instructors", "rooms", "students", "sections")
BIGINT_MAX = 2**63 - 1


def enroll(client, section_id: int, student_id: int):
    """POST an enrollment and return the response."""
    return client.post(f"{API}/sections/{section_id}/enrollments", json={"student_id": student_id})


# --- 400: the body is not JSON, or not a JSON object; a bad query parameter -------------------


@pytest.mark.parametrize(
    "raw",
    [
        '{"code": "CS101",',
        "{'code': 'CS101'}",
        "not json",
        "",
        b"\xff\xfe\x00",
    ],
    ids=["truncated", "single-quotes", "bare-words", "empty", "not-utf8"],
)
def test_post_with_malformed_json_is_400_problem_and_creates_nothing(client, db, raw):
    response = client.post(COURSES, data=raw, content_type="application/json")

    assert_problem(response, 400)
    assert count_rows(db, "courses") == 0


@pytest.mark.parametrize("raw", ["[]", '[{"code": "CS101"}]', '"CS101"', "null", "42", "true"])
def test_post_with_json_that_is_not_an_object_is_400_problem_and_creates_nothing(client, db, raw):
    response = client.post(COURSES, data=raw, content_type="application/json")

    assert "object" in assert_problem(response, 400)["detail"]
    assert count_rows(db, "courses") == 0


@pytest.mark.parametrize("raw", ["{", "[]", "null", '"x"'])
def test_patch_with_a_body_that_is_not_a_json_object_is_400_problem_and_changes_nothing(
    client, db, raw
):
    course = make_course(client)
    before = db_snapshot(db)

    response = client.patch(f"{COURSES}/{course['id']}", data=raw, content_type="application/json")

    assert_problem(response, 400)
    assert db_snapshot(db) == before


def test_post_with_absurdly_nested_json_is_400_problem(client, db):
    response = client.post(COURSES, data="[" * 50_000, content_type="application/json")

    assert_problem(response, 400)
    assert count_rows(db, "courses") == 0


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_list_with_a_bad_paging_parameter_is_400_problem(client, collection):
    for query in ("limit=abc", "limit=0", "limit=101", "limit=-1", "offset=-1", "offset=1.5"):
        body = assert_problem(client.get(f"{API}/{collection}?{query}"), 400, errors=True)
        assert list(body["errors"]) == [query.split("=")[0]], query


@pytest.mark.parametrize(
    "query",
    ["term=spring", "term=2027-autumn", "course_id=abc", "instructor_id=0", "room_id=-2"],
)
def test_list_sections_with_a_bad_filter_is_400_problem(client, query):
    body = assert_problem(client.get(f"{API}/sections?{query}"), 400, errors=True)

    assert list(body["errors"]) == [query.split("=")[0]]


@pytest.mark.parametrize(
    "query",
    ["limit=%C2%B2", "offset=%C2%B2", "offset=" + "9" * 5000, "limit=%D9%A1"],
    ids=["limit-superscript-2", "offset-superscript-2", "offset-5000-digits", "limit-arabic-1"],
)
def test_list_with_a_non_ascii_or_huge_number_as_paging_parameter_is_400_problem(client, query):
    assert_problem(client.get(f"{COURSES}?{query}"), 400, errors=True)


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_list_with_an_unknown_query_parameter_is_400_problem_naming_it(client, collection):
    for query, name in (
        ("sort=id", "sort"),
        ("Limit=5", "Limit"),
        ("limit=5&student_id=1", "student_id"),
    ):
        body = assert_problem(client.get(f"{API}/{collection}?{query}"), 400, errors=True)
        assert list(body["errors"]) == [name], query


def test_roster_and_schedule_with_an_unknown_query_parameter_are_400_problem_naming_it(client):
    section, student = make_section(client), make_student(client)

    for path in (
        f"{API}/sections/{section['id']}/enrollments",
        f"{API}/students/{student['id']}/schedule",
    ):
        body = assert_problem(client.get(f"{path}?sort=id"), 400, errors=True)
        assert list(body["errors"]) == ["sort"], path


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_list_with_a_repeated_query_parameter_is_400_problem_naming_it(client, collection):
    for query, name in (("limit=5&limit=6", "limit"), ("offset=0&limit=5&offset=0", "offset")):
        body = assert_problem(client.get(f"{API}/{collection}?{query}"), 400, errors=True)
        assert list(body["errors"]) == [name], query


def test_list_sections_with_a_repeated_filter_is_400_problem_naming_it(client):
    response = client.get(f"{API}/sections?term=2027-spring&term=2027-fall")

    assert list(assert_problem(response, 400, errors=True)["errors"]) == ["term"]


# --- 404: no such id or route; ids that are not integers in range ---------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/nope",
        f"{API}",
        f"{API}/nope",
        f"{API}/course",
        "/api/v2/courses",
        f"{API}/courses/1/nope",
    ],
)
def test_unknown_route_is_404_problem(client, path):
    assert_problem(client.get(path), 404)


@pytest.mark.parametrize("raw_id", ["abc", "-1", "1.5", "1e3", "%201", "1a"])
def test_id_that_is_not_a_number_is_404_problem_for_every_method(client, raw_id):
    for collection in COLLECTIONS:
        for method in ("GET", "PATCH", "DELETE"):
            response = client.open(f"{API}/{collection}/{raw_id}", method=method, json={})
            assert_problem(response, 404)


OUT_OF_RANGE_IDS = ["0", str(BIGINT_MAX + 1), "99999999999999999999", "9" * 5000]


@pytest.mark.parametrize(
    "raw_id", OUT_OF_RANGE_IDS, ids=["zero", "bigint-max+1", "20-digits", "5000-digits"]
)
def test_get_with_an_id_out_of_bigint_range_is_404_problem(client, raw_id):
    for collection in COLLECTIONS:
        assert_problem(client.get(f"{API}/{collection}/{raw_id}"), 404)


@pytest.mark.parametrize(
    "raw_id", OUT_OF_RANGE_IDS, ids=["zero", "bigint-max+1", "20-digits", "5000-digits"]
)
def test_patch_or_delete_with_an_id_out_of_bigint_range_is_404_problem(client, db, raw_id):
    make_course(client)
    before = db_snapshot(db)

    for collection in COLLECTIONS:
        for method in ("PATCH", "DELETE"):
            response = client.open(f"{API}/{collection}/{raw_id}", method=method, json={})
            assert_problem(response, 404)

    assert db_snapshot(db) == before


def test_nested_route_with_an_id_out_of_bigint_range_is_404_problem(client):
    assert_problem(client.get(f"{API}/sections/0/enrollments"), 404)


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_largest_bigint_id_that_does_not_exist_is_404_problem(client, collection):
    body = assert_problem(client.get(f"{API}/{collection}/{BIGINT_MAX}"), 404)

    assert str(BIGINT_MAX) in body["detail"]


@pytest.mark.parametrize(
    "path",
    [
        f"{API}/students//schedule",
        f"{API}/sections//enrollments",
        f"{API}/students/abc/schedule",
        f"{API}/students/0/schedule",
        f"{API}/sections/abc/enrollments",
    ],
)
def test_existing_route_with_missing_or_bad_id_is_404_problem(client, path):
    assert_problem(client.get(path), 404)


@pytest.mark.parametrize(
    "path", [f"{API}/students/999/schedule", f"{API}/sections/999/enrollments"]
)
def test_nested_route_of_unknown_parent_is_404_problem(client, path):
    assert "999" in assert_problem(client.get(path), 404)["detail"]


def test_delete_enrollment_that_does_not_exist_is_404_problem(client):
    section = make_section(client)
    student = make_student(client)

    response = client.delete(f"{API}/sections/{section['id']}/enrollments/{student['id']}")

    assert_problem(response, 404)


def test_id_written_with_non_ascii_digits_is_404_problem(client):
    make_course(client)

    assert_problem(client.get(f"{COURSES}/%D9%A1"), 404)


# --- 405: method not allowed on the route, with Allow ---------------------------------------


@pytest.mark.parametrize("collection", ["courses", "instructors", "rooms", "students", "sections"])
def test_put_on_an_item_is_405_problem_with_allow_header(client, collection):
    response = client.put(f"{API}/{collection}/1", json={})

    assert_problem(response, 405)
    allowed = {method.strip() for method in response.headers["Allow"].split(",")}
    assert {"GET", "PATCH", "DELETE"} <= allowed
    assert "PUT" not in allowed
    assert "POST" not in allowed


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_writing_the_whole_collection_is_405_problem_with_allow_header(client, db, method):
    make_course(client)
    before = db_snapshot(db)

    response = client.open(COURSES, method=method, json={})

    assert_problem(response, 405)
    allowed = {method.strip() for method in response.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed
    assert method not in allowed
    assert db_snapshot(db) == before


def test_post_to_an_item_is_405_problem(client, db):
    course = make_course(client)
    before = db_snapshot(db)

    response = client.post(f"{COURSES}/{course['id']}", json=course_body())

    assert_problem(response, 405)
    assert "POST" not in response.headers["Allow"]
    assert db_snapshot(db) == before


# --- 409: conflicts ---------------------------------------------------------------------------


def test_failed_create_with_duplicate_code_leaves_nothing_behind(client, db):
    make_course(client, code="CS101")
    before = db_snapshot(db)

    assert_problem(client.post(COURSES, json=course_body(code="CS101")), 409)

    assert count_rows(db, "courses") == 1
    assert db_snapshot(db) == before
    # The identity sequence may move on, but the next create still works.
    assert make_course(client, code="CS102")["code"] == "CS102"


def test_delete_still_referenced_is_409_problem_and_keeps_everything(client, db):
    section = make_section(client)
    before = db_snapshot(db)

    for collection, key in (
        ("courses", "course"),
        ("instructors", "instructor"),
        ("rooms", "room"),
    ):
        assert_problem(client.delete(f"{API}/{collection}/{section[key]['id']}"), 409)

    assert db_snapshot(db) == before


def test_waiting_twice_for_a_full_section_is_409_problem_and_changes_nothing(client, db):
    section = make_section(client, capacity=1)
    assert enroll(client, section["id"], make_student(client)["id"]).status_code == 201
    latecomer = make_student(client)
    assert enroll(client, section["id"], latecomer["id"]).status_code == 201  # waitlisted
    before = db_snapshot(db)

    problem = assert_problem(enroll(client, section["id"], latecomer["id"]), 409)

    assert "waitlist" in problem["detail"]
    assert db_snapshot(db) == before


def test_enrolling_twice_is_409_problem_and_changes_nothing(client, db):
    section = make_section(client)
    student = make_student(client)
    assert enroll(client, section["id"], student["id"]).status_code == 201
    before = db_snapshot(db)

    assert_problem(enroll(client, section["id"], student["id"]), 409)
    assert db_snapshot(db) == before


def test_enrolling_into_a_clashing_section_is_409_problem_and_changes_nothing(client, db):
    student = make_student(client)
    first = make_section(client)
    clashing = make_section(client, days=["MON"], starts_at="10:00", ends_at="11:00")
    assert enroll(client, first["id"], student["id"]).status_code == 201
    before = db_snapshot(db)

    assert_problem(enroll(client, clashing["id"], student["id"]), 409)
    assert db_snapshot(db) == before


def test_double_booking_a_room_is_409_problem_and_changes_nothing(client, db):
    room = make_room(client)
    make_section(client, room_id=room["id"])
    other_course, other_instructor = make_course(client), make_instructor(client)
    before = db_snapshot(db)

    response = client.post(
        f"{API}/sections",
        json={
            "course_id": other_course["id"],
            "instructor_id": other_instructor["id"],
            "room_id": room["id"],
            "term": "2027-spring",
            "capacity": 10,
            "days": ["WED"],
            "starts_at": "10:00",
            "ends_at": "11:00",
        },
    )

    assert_problem(response, 409)
    assert db_snapshot(db) == before


def test_double_booking_an_instructor_is_409_problem_and_changes_nothing(client, db):
    instructor = make_instructor(client)
    make_section(client, instructor_id=instructor["id"])
    other_course, other_room = make_course(client), make_room(client)
    before = db_snapshot(db)

    response = client.post(
        f"{API}/sections",
        json={
            "course_id": other_course["id"],
            "instructor_id": instructor["id"],
            "room_id": other_room["id"],
            "term": "2027-spring",
            "capacity": 10,
            "days": ["MON", "FRI"],
            "starts_at": "08:00",
            "ends_at": "09:30",
        },
    )

    assert_problem(response, 409)
    assert db_snapshot(db) == before


# --- 413: body too large ----------------------------------------------------------------------


def test_post_with_a_body_over_64_kib_is_413_problem_and_creates_nothing(client, app, db):
    assert app.config["MAX_CONTENT_LENGTH"] == 64 * 1024
    body = course_body(description="x" * (64 * 1024))

    response = client.post(COURSES, json=body)

    assert_problem(response, 413)
    assert count_rows(db, "courses") == 0


def test_patch_with_a_body_over_64_kib_is_413_problem_and_changes_nothing(client, db):
    course = make_course(client)
    before = db_snapshot(db)

    response = client.patch(f"{COURSES}/{course['id']}", json={"description": "y" * 70_000})

    assert_problem(response, 413)
    assert db_snapshot(db) == before


def test_body_just_under_the_limit_is_not_413(client):
    body = course_body(description="")
    padding = 60 * 1024
    body["description"] = "z" * padding

    response = client.post(COURSES, json=body)

    # Too long for a description (5000 characters), but read and judged: a 422, not a 413.
    assert list(assert_problem(response, 422)["errors"]) == ["description"]


# --- 415: a body that is not application/json -------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/xml"],
)
def test_post_without_a_json_content_type_is_415_problem_and_creates_nothing(
    client, db, content_type
):
    headers = {"Content-Type": content_type} if content_type else {}

    response = client.post(
        COURSES, data='{"code": "CS101", "title": "T", "credits": 3}', headers=headers
    )

    assert_problem(response, 415)
    assert count_rows(db, "courses") == 0


def test_patch_with_text_plain_is_415_problem_and_changes_nothing(client, db):
    course = make_course(client)
    before = db_snapshot(db)

    response = client.patch(
        f"{COURSES}/{course['id']}", data='{"title": "New"}', content_type="text/plain"
    )

    assert_problem(response, 415)
    assert db_snapshot(db) == before


def test_json_content_type_with_charset_is_accepted(client):
    response = client.post(
        COURSES,
        data='{"code": "CS101", "title": "T", "credits": 3}',
        content_type="application/json; charset=utf-8",
    )

    assert response.status_code == 201


# --- 422: well-formed JSON that fails validation ----------------------------------------------


def test_validation_failure_is_422_problem_with_errors_naming_each_field(client, db):
    response = client.post(COURSES, json={"code": "x", "credits": "3", "colour": "red"})

    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"code", "title", "credits", "colour"}
    assert count_rows(db, "courses") == 0


# --- 500: unexpected; logged with a request id; the body says only that -----------------------


def test_unexpected_error_is_500_problem_with_request_id_and_no_internals(
    app_factory, database_url, caplog
):
    app = app_factory({"TESTING": False, "DATABASE_URL": database_url})

    def explode():
        raise RuntimeError("secret internals")

    app.add_url_rule(f"{API}/explode", "explode", explode)
    try:
        with caplog.at_level(logging.ERROR):
            response = app.test_client().get(f"{API}/explode")
    finally:
        close_pool(app)

    body = assert_problem(response, 500)
    text = response.get_data(as_text=True)
    assert "secret internals" not in text
    assert "RuntimeError" not in text
    request_id = re.search(r"\b[0-9a-f]{32}\b", body["detail"])
    assert request_id, body["detail"]
    logged = [record for record in caplog.records if request_id.group() in record.getMessage()]
    assert logged, "the request id in the body is not in the log"
    assert logged[0].exc_info
    assert "secret internals" in str(logged[0].exc_info[1])


# --- 503: database unavailable, and recovery without a restart --------------------------------


def test_database_outage_is_503_problem_with_retry_after_and_recovers(client, app, database_outage):
    # No `db` fixture here: the outage terminates every connection to the database, its too.
    course = make_course(client)
    app.extensions["scheduler_db_pool"].timeout = 0.5

    with database_outage():
        listing = client.get(COURSES)
        assert_problem(listing, 503)
        assert listing.headers["Retry-After"].isdigit()
        created = client.post(COURSES, json=course_body())
        assert_problem(created, 503)
        assert created.headers["Retry-After"]

    after = answer_once_recovered(client, COURSES)
    assert after.status_code == 200
    assert after.get_json()["items"] == [course]
    assert after.get_json()["total"] == 1
