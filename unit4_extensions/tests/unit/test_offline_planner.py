"""The offline planner on its own (no database, no network): deterministic plans that keep to
the timetable and the credit limit, goals first."""

import json

from scheduler.advisor_models.interface import Prompt
from scheduler.advisor_models.offline import OfflinePlanner


def section(
    section_id: int, day: str, *, title: str = "Course", credits: int = 3, code: str = ""
) -> dict:
    """An open section as the prompt's facts show it, 09:00–10:15 on `day` (its course CS<id>
    unless `code` names one)."""
    return {
        "section_id": section_id,
        "code": code or f"CS{section_id}",
        "title": title,
        "credits": credits,
        "days": [day],
        "starts_at": "09:00",
        "ends_at": "10:15",
        "seats_left": 5,
    }


def plan(open_sections: list[dict], *, mine: list[dict] = (), goals: str = "anything") -> list:
    """The planner's suggestions, parsed from its JSON answer."""
    facts = {
        "term": "2027-spring",
        "max_credits": 18,
        "student": {"credits": sum(s["credits"] for s in mine), "sections": list(mine)},
        "open_sections": open_sections,
        "goals": goals,
    }
    answer = OfflinePlanner().complete(Prompt(messages=[], facts=facts))
    assert answer.model == "offline-planner"
    return json.loads(answer.text)["sections"]


def test_courses_matching_the_goals_come_first():
    chosen = plan([section(1, "MON"), section(2, "TUE", title="Databases")], goals="databases!")

    assert [item["section_id"] for item in chosen] == [2, 1]
    assert chosen[0]["reason"] == "CS2 matches your goals (databases)."


def test_it_never_goes_past_the_credit_limit():
    chosen = plan(
        [section(n, day, credits=5) for n, day in enumerate(["MON", "TUE", "WED", "THU"])],
        mine=[section(9, "FRI", credits=3)],
    )

    assert len(chosen) == 3  # 3 + 3 × 5 = 18


def test_it_never_picks_a_section_that_clashes():
    chosen = plan(
        [section(1, "MON"), section(2, "MON"), section(3, "TUE")], mine=[section(9, "TUE")]
    )

    assert [item["section_id"] for item in chosen] == [1]


def test_it_picks_one_section_of_a_course_and_none_of_a_course_the_student_takes():
    chosen = plan(
        [section(1, "MON", code="CS1"), section(2, "TUE", code="CS1"), section(3, "WED")],
        mine=[section(9, "FRI", code="CS3")],
    )

    assert [item["section_id"] for item in chosen] == [1]


def test_the_same_facts_give_the_same_plan():
    sections = [section(n, day) for n, day in enumerate(["MON", "TUE", "WED"])]

    assert plan(sections, goals="x") == plan(sections, goals="x")
