"""/api/v1/rooms: list paging, create, read, partial update and delete; names unique; a room
never shrinks below a section scheduled in it; every failed write shown to leave the database
as it was."""

from urllib.parse import urlsplit

import pytest
from helpers import (
    assert_problem,
    count_rows,
    db_snapshot,
    fetch_row,
    make_room,
    make_section,
    room_body,
)

ROOMS = "/api/v1/rooms"


def insert_rooms(db, how_many: int) -> list[int]:
    """Insert `how_many` rooms straight into the database; return their ids in order."""
    rows = db.execute(
        "INSERT INTO rooms (name, capacity) "
        "SELECT 'Bulk ' || n, 20 FROM generate_series(1, %s) AS n RETURNING id",
        (how_many,),
    ).fetchall()
    return sorted(row["id"] for row in rows)


# --- list ---------------------------------------------------------------------------------


def test_list_rooms_when_there_are_none_is_an_empty_envelope(client):
    response = client.get(ROOMS)

    assert response.status_code == 200
    assert response.get_json() == {"items": [], "total": 0, "limit": 20, "offset": 0}


def test_list_rooms_returns_full_objects_in_id_order(client):
    first = make_room(client)
    second = make_room(client)

    body = client.get(ROOMS).get_json()

    assert body["items"] == [first, second]
    assert body["total"] == 2


def test_list_rooms_defaults_to_20_items_and_counts_them_all(client, db):
    ids = insert_rooms(db, 21)

    body = client.get(ROOMS).get_json()

    assert [item["id"] for item in body["items"]] == ids[:20]
    assert (body["total"], body["limit"], body["offset"]) == (21, 20, 0)


def test_list_rooms_pages_with_limit_and_offset(client, db):
    ids = insert_rooms(db, 4)

    body = client.get(f"{ROOMS}?offset=2&limit=5").get_json()

    assert [item["id"] for item in body["items"]] == ids[2:]
    assert (body["total"], body["limit"], body["offset"]) == (4, 5, 2)


def test_list_rooms_accepts_the_limit_bounds_1_and_100(client, db):
    ids = insert_rooms(db, 101)

    one = client.get(f"{ROOMS}?limit=1").get_json()
    hundred = client.get(f"{ROOMS}?limit=100").get_json()

    assert [item["id"] for item in one["items"]] == ids[:1]
    assert [item["id"] for item in hundred["items"]] == ids[:100]


def test_list_rooms_with_offset_past_the_end_is_an_empty_page(client, db):
    insert_rooms(db, 3)

    body = client.get(f"{ROOMS}?offset=3").get_json()

    assert body == {"items": [], "total": 3, "limit": 20, "offset": 3}


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=ten", "offset=-1", "offset=x"])
def test_list_rooms_with_a_bad_paging_parameter_is_400_problem(client, query):
    assert_problem(client.get(f"{ROOMS}?{query}"), 400, errors=True)


# --- create -------------------------------------------------------------------------------


def test_create_room_is_201_with_location_that_gets_the_same_room(client, db):
    response = client.post(ROOMS, json={"name": "Hall A", "capacity": 120})

    assert response.status_code == 201
    created = response.get_json()
    assert created == {"id": created["id"], "name": "Hall A", "capacity": 120}
    location = urlsplit(response.headers["Location"]).path
    assert location == f"{ROOMS}/{created['id']}"
    assert client.get(location).get_json() == created
    assert fetch_row(db, "rooms", created["id"]) == created


def test_create_room_trims_the_name(client):
    assert make_room(client, name="  Lab 1 ")["name"] == "Lab 1"


def test_create_room_accepts_capacity_1(client):
    assert make_room(client, capacity=1)["capacity"] == 1


def test_create_room_with_duplicate_name_is_409_and_changes_nothing(client, db):
    make_room(client, name="Hall A")
    before = db_snapshot(db)

    response = client.post(ROOMS, json=room_body(name="Hall A"))

    assert "name" in assert_problem(response, 409)["detail"]
    assert db_snapshot(db) == before
    assert count_rows(db, "rooms") == 1


def test_create_room_with_duplicate_name_after_trimming_is_409_and_changes_nothing(client, db):
    make_room(client, name="Hall A")
    before = db_snapshot(db)

    assert_problem(client.post(ROOMS, json=room_body(name=" Hall A  ")), 409)

    assert db_snapshot(db) == before


def test_create_room_without_any_field_is_422_naming_each_required_one(client, db):
    body = assert_problem(client.post(ROOMS, json={}), 422)

    assert set(body["errors"]) == {"name", "capacity"}
    assert count_rows(db, "rooms") == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", None),
        ("name", ""),
        ("name", "  "),
        ("name", 101),
        ("name", "x" * 101),
        ("capacity", None),
        ("capacity", 0),
        ("capacity", -3),
        ("capacity", "30"),
        ("capacity", 30.0),
        ("capacity", 2.5),
        ("capacity", True),
        ("capacity", [30]),
        ("capacity", 10_001),
    ],
)
def test_create_room_with_an_invalid_field_is_422_naming_it_and_changes_nothing(
    client, db, field, value
):
    response = client.post(ROOMS, json=room_body(**{field: value}))

    assert list(assert_problem(response, 422)["errors"]) == [field]
    assert count_rows(db, "rooms") == 0


def test_create_room_with_unknown_fields_is_422_naming_each(client, db):
    response = client.post(ROOMS, json=room_body(building="B", floor=2))

    assert set(assert_problem(response, 422)["errors"]) == {"building", "floor"}
    assert count_rows(db, "rooms") == 0


def test_create_room_with_several_bad_fields_names_every_one(client, db):
    response = client.post(ROOMS, json={"name": " ", "capacity": 0})

    assert set(assert_problem(response, 422)["errors"]) == {"name", "capacity"}
    assert count_rows(db, "rooms") == 0


# --- read ---------------------------------------------------------------------------------


def test_get_room_is_200_with_the_room(client):
    room = make_room(client)

    response = client.get(f"{ROOMS}/{room['id']}")

    assert response.status_code == 200
    assert response.get_json() == room


def test_get_unknown_room_is_404_problem(client):
    assert "4242" in assert_problem(client.get(f"{ROOMS}/4242"), 404)["detail"]


# --- update -------------------------------------------------------------------------------


def test_patch_room_changes_only_the_named_field(client, db):
    room = make_room(client, name="Hall A", capacity=50)
    other = make_room(client)

    response = client.patch(f"{ROOMS}/{room['id']}", json={"name": "Hall B"})

    assert response.status_code == 200
    expected = {**room, "name": "Hall B"}
    assert response.get_json() == expected
    assert fetch_row(db, "rooms", room["id"]) == expected
    assert fetch_row(db, "rooms", other["id"]) == other


def test_patch_room_capacity_changes_only_the_capacity(client, db):
    room = make_room(client, name="Hall A", capacity=50)

    response = client.patch(f"{ROOMS}/{room['id']}", json={"capacity": 80})

    assert response.status_code == 200
    assert response.get_json() == {**room, "capacity": 80}
    assert fetch_row(db, "rooms", room["id"]) == {**room, "capacity": 80}


def test_patch_room_with_empty_body_is_a_no_op(client, db):
    room = make_room(client)
    before = db_snapshot(db)

    response = client.patch(f"{ROOMS}/{room['id']}", json={})

    assert response.status_code == 200
    assert response.get_json() == room
    assert db_snapshot(db) == before


def test_patch_room_with_an_unknown_field_is_422_and_changes_nothing(client, db):
    room = make_room(client)
    before = db_snapshot(db)

    response = client.patch(f"{ROOMS}/{room['id']}", json={"capacity": 5, "projector": True})

    assert list(assert_problem(response, 422)["errors"]) == ["projector"]
    assert db_snapshot(db) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", None),
        ("capacity", 0),
        ("capacity", -1),
        ("capacity", None),
        ("capacity", True),
        ("capacity", "40"),
    ],
)
def test_patch_room_with_an_invalid_field_is_422_naming_it_and_changes_nothing(
    client, db, field, value
):
    room = make_room(client)
    before = db_snapshot(db)

    response = client.patch(f"{ROOMS}/{room['id']}", json={field: value})

    assert list(assert_problem(response, 422)["errors"]) == [field]
    assert db_snapshot(db) == before


def test_patch_room_to_a_duplicate_name_is_409_and_changes_nothing(client, db):
    make_room(client, name="Hall A")
    room = make_room(client, name="Hall B")
    before = db_snapshot(db)

    response = client.patch(f"{ROOMS}/{room['id']}", json={"name": "Hall A", "capacity": 99})

    assert_problem(response, 409)
    assert db_snapshot(db) == before


def test_patch_room_capacity_below_a_section_in_it_is_409_and_changes_nothing(client, db):
    room = make_room(client, capacity=40)
    make_section(client, room_id=room["id"], capacity=25)
    make_section(client, room_id=room["id"], capacity=10, days=["TUE"])
    before = db_snapshot(db)

    response = client.patch(f"{ROOMS}/{room['id']}", json={"capacity": 24})

    assert "25" in assert_problem(response, 409)["detail"]
    assert db_snapshot(db) == before
    assert fetch_row(db, "rooms", room["id"])["capacity"] == 40


def test_patch_room_capacity_down_to_its_largest_section_is_allowed(client, db):
    room = make_room(client, capacity=40)
    make_section(client, room_id=room["id"], capacity=25)

    response = client.patch(f"{ROOMS}/{room['id']}", json={"capacity": 25})

    assert response.status_code == 200
    assert fetch_row(db, "rooms", room["id"])["capacity"] == 25


def test_patch_room_name_with_sections_in_it_keeps_its_capacity(client, db):
    room = make_room(client, capacity=40)
    make_section(client, room_id=room["id"], capacity=25)

    response = client.patch(f"{ROOMS}/{room['id']}", json={"name": "Renamed"})

    assert response.status_code == 200
    assert response.get_json() == {**room, "name": "Renamed"}


def test_patch_unknown_room_is_404_and_changes_nothing(client, db):
    make_room(client)
    before = db_snapshot(db)

    assert_problem(client.patch(f"{ROOMS}/999", json={"capacity": 5}), 404)
    assert_problem(client.patch(f"{ROOMS}/999", json={}), 404)

    assert db_snapshot(db) == before


# --- delete -------------------------------------------------------------------------------


def test_delete_room_is_204_then_404(client, db):
    room = make_room(client)
    other = make_room(client)

    response = client.delete(f"{ROOMS}/{room['id']}")

    assert response.status_code == 204
    assert response.get_data() == b""
    assert fetch_row(db, "rooms", room["id"]) is None
    assert fetch_row(db, "rooms", other["id"]) == other
    assert_problem(client.get(f"{ROOMS}/{room['id']}"), 404)
    assert_problem(client.delete(f"{ROOMS}/{room['id']}"), 404)


def test_delete_unknown_room_is_404_and_changes_nothing(client, db):
    make_room(client)
    before = db_snapshot(db)

    assert_problem(client.delete(f"{ROOMS}/999"), 404)

    assert db_snapshot(db) == before


def test_delete_room_with_a_section_in_it_is_409_and_keeps_it(client, db):
    room = make_room(client)
    make_section(client, room_id=room["id"])
    before = db_snapshot(db)

    body = assert_problem(client.delete(f"{ROOMS}/{room['id']}"), 409)

    assert "referenced" in body["detail"]
    assert db_snapshot(db) == before
    assert fetch_row(db, "rooms", room["id"]) == room
