""".env.example documents every setting of the table and nothing else: what it is for,
whether it is required, an example, and (as a commented-out line) its default."""

import re
from pathlib import Path

import pytest

from scheduler.config import SETTINGS

ENV_EXAMPLE = Path(__file__).parents[2] / ".env.example"
# `NAME=` for a required setting (fill it in); `# NAME=default` for an optional one.
ASSIGNMENT = re.compile(r"(?P<comment># )?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)")


def documented() -> dict[str, tuple[str, str, str]]:
    """Each documented variable: its assignment's `# ` (or nothing), its value, and the
    comment lines above it (up to the blank line before them)."""
    entries, comments = {}, []
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if match := ASSIGNMENT.fullmatch(line):
            assert match["name"] not in entries, f"{match['name']} is documented twice"
            entries[match["name"]] = (match["comment"] or "", match["value"], "\n".join(comments))
            comments = []
        elif line.startswith("#"):
            comments.append(line)
        else:
            comments = []
    return entries


def test_every_setting_is_documented_and_nothing_else():
    assert sorted(documented()) == sorted(SETTINGS)


@pytest.mark.parametrize("name", SETTINGS)
def test_each_setting_says_what_it_is_and_gives_an_example(name):
    _, _, comments = documented()[name]

    assert "# Example: " in comments
    assert len(comments.splitlines()) >= 2  # a description, then the example


@pytest.mark.parametrize("name", SETTINGS)
def test_a_required_setting_is_left_to_fill_in_and_an_optional_one_shows_its_default(name):
    comment, value, comments = documented()[name]
    default = SETTINGS[name].default

    if default is None:
        assert (comment, value) == ("", "")
        assert "Required" in comments
    else:
        assert (comment, value) == ("# ", str(default))
        assert "Optional" in comments
