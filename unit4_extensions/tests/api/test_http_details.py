"""HTTP details: a 204 carries no Content-Type, and a 404 for an id that is not one says
which resource was asked for. The requests are an admin's."""

import pytest
from helpers import (
    assert_problem,
    make_course,
    make_instructor,
    make_room,
    make_section,
    make_student,
)
from settings import TEST_PASSWORD

API = "/api/v1"


def test_every_delete_answers_204_without_content_type_or_body(client, make_user):
    section = make_section(client)
    student = make_student(client)
    assert (
        client.post(
            f"{API}/sections/{section['id']}/enrollments", json={"student_id": student["id"]}
        ).status_code
        == 201
    )
    paths = [
        f"{API}/sections/{section['id']}/enrollments/{student['id']}",
        f"{API}/sections/{section['id']}",
        f"{API}/courses/{make_course(client)['id']}",
        f"{API}/instructors/{make_instructor(client)['id']}",
        f"{API}/rooms/{make_room(client)['id']}",
        f"{API}/students/{student['id']}",
    ]
    for path in paths:
        response = client.delete(path)

        assert response.status_code == 204, path
        assert "Content-Type" not in response.headers, path
        assert response.get_data() == b""


def test_logout_answers_204_without_content_type(anonymous_client, admin):
    login = anonymous_client.post(
        f"{API}/auth/login", json={"email": admin["email"], "password": TEST_PASSWORD}
    )

    response = anonymous_client.post(
        f"{API}/auth/logout", json={"refresh_token": login.get_json()["refresh_token"]}
    )

    assert response.status_code == 204
    assert "Content-Type" not in response.headers


ITEM_PATHS = [
    ("/courses/abc", "course", "abc"),
    ("/instructors/abc", "instructor", "abc"),
    ("/rooms/abc", "room", "abc"),
    ("/students/abc", "student", "abc"),
    ("/sections/abc", "section", "abc"),
    ("/courses/0", "course", "0"),
    ("/courses/-1", "course", "-1"),
    ("/courses/99999999999999999999", "course", "99999999999999999999"),
    ("/sections/1/enrollments/abc", "enrolled student", "abc"),
]
NESTED_COLLECTION_PATHS = [
    ("/sections/abc/enrollments", "section", "abc"),
    ("/students/abc/schedule", "student", "abc"),
]
CASES = [
    *((method, *case) for method in ("GET", "PATCH", "DELETE") for case in ITEM_PATHS),
    *(("GET", *case) for case in NESTED_COLLECTION_PATHS),
]


@pytest.mark.parametrize(("method", "path", "noun", "segment"), CASES)
def test_id_that_is_not_an_id_is_404_problem_naming_the_resource(
    client, method, path, noun, segment
):
    response = client.open(API + path, method=method)

    problem = assert_problem(response, 404)
    assert problem["detail"].startswith(f"No {noun} with id '{segment}': ")
    assert "positive whole numbers" in problem["detail"]


def test_unknown_route_keeps_the_plain_not_found_detail(client):
    problem = assert_problem(client.get(f"{API}/courses/1/nothing-here"), 404)

    assert problem["detail"].startswith("The requested URL was not found")
