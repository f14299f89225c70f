"""The Postman collection of lesson 3.8 keeps its promises as it is edited: every folder runs
in a stage of `nox -s e2e`, every request asserts something, and at least 40% of the requests
expect a failure and assert its status."""

import importlib.util
import json
import re
from pathlib import Path

import pytest

POSTMAN = Path(__file__).resolve().parents[2] / "postman"
EXPECTED_STATUS = re.compile(r"→ (?P<status>[1-5][0-9]{2})$")


def load_driver():
    """Import postman/run_e2e.py, which is a script rather than part of the package."""
    spec = importlib.util.spec_from_file_location("run_e2e", POSTMAN / "run_e2e.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def collection() -> dict:
    """The collection as committed."""
    return json.loads((POSTMAN / "scheduler.postman_collection.json").read_text())


def requests_of(collection: dict) -> list[dict]:
    """Every request of the collection, folder by folder."""
    return [request for folder in collection["item"] for request in folder["item"]]


def test_it_is_a_v2_1_collection_with_a_baseurl_environment(collection):
    environment = json.loads((POSTMAN / "scheduler-local.postman_environment.json").read_text())

    assert collection["info"]["schema"].endswith("/collection/v2.1.0/collection.json")
    assert {item["key"] for item in environment["values"]} >= {"baseUrl", "verificationToken"}
    urls = [request["request"]["url"]["raw"] for request in requests_of(collection)]
    assert all(url.startswith("{{baseUrl}}/") for url in urls)


def test_the_stages_run_every_folder_once_in_the_collections_order(collection):
    staged = [folder for stage in load_driver().STAGES for folder in stage.folders]

    assert staged == [folder["name"] for folder in collection["item"]]


def test_every_request_names_its_expected_status_and_asserts_it(collection):
    for request in requests_of(collection):
        found = EXPECTED_STATUS.search(request["name"])
        assert found, request["name"]
        [tests] = [e["script"]["exec"] for e in request["event"] if e["listen"] == "test"]
        assert any(f"status({found['status']})" in line for line in tests), request["name"]


def test_at_least_40_percent_of_the_requests_assert_a_failure(collection):
    names = [request["name"] for request in requests_of(collection)]
    failures = [name for name in names if int(EXPECTED_STATUS.search(name)["status"]) >= 400]

    assert len(failures) / len(names) >= 0.4
