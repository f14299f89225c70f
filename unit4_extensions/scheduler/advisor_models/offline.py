"""The offline planner: real, deterministic plans from the same facts a model gets, with no
network and no key, so that `nox -s serve` and the tests work anywhere.

It answers with JSON text in the shape a model is asked for, so its answer goes through the
same parsing and checks as any model's: nothing downstream knows which one wrote it.
"""

import json
import re
from datetime import time

from scheduler.advisor_models.interface import OFFLINE_MODEL, Answer, Prompt
from scheduler.meetings import Meeting

MAX_SUGGESTIONS = 5
WORD = re.compile(r"[a-z0-9]{3,}")


def meeting(section: dict) -> Meeting:
    """The meetings of a section as the facts give it (times as "HH:MM")."""
    return Meeting(
        frozenset(section["days"]),
        time.fromisoformat(section["starts_at"]),
        time.fromisoformat(section["ends_at"]),
    )


def matches(goals: set[str], section: dict) -> list[str]:
    """The words of the goals that the section's course code or title contains."""
    course = f"{section['code']} {section['title']}".lower()
    return sorted(word for word in goals if word in course)


class OfflinePlanner:
    """Sections whose course matches the goals first, then the rest by id; each added only if
    it fits the timetable so far and the credit limit, and is the plan's only one of its course."""

    name = "offline"
    model = OFFLINE_MODEL

    # --8<-- [start:offline]
    def complete(self, prompt: Prompt) -> Answer:
        """Pick sections greedily from the open ones and say why each was picked."""
        facts = prompt.facts
        goals = set(WORD.findall(facts["goals"].lower()))
        taken = [meeting(section) for section in facts["student"]["sections"]]
        courses = {section["code"] for section in facts["student"]["sections"]}
        credits = facts["student"]["credits"]
        ranked = sorted(
            facts["open_sections"], key=lambda s: (-len(matches(goals, s)), s["section_id"])
        )
        chosen = []
        for section in ranked:
            if len(chosen) == MAX_SUGGESTIONS:
                break
            if section["code"] in courses or credits + section["credits"] > facts["max_credits"]:
                continue  # one section of a course; never past the credit limit
            if any(meeting(section).overlaps(other) for other in taken):
                continue
            words = matches(goals, section)
            reason = (
                f"{section['code']} matches your goals ({', '.join(words)})"
                if words
                else f"{section['code']} fits your timetable"
            )
            chosen.append({"section_id": section["section_id"], "reason": f"{reason}."})
            taken.append(meeting(section))
            courses.add(section["code"])
            credits += section["credits"]
        return Answer(text=json.dumps({"sections": chosen}), model=self.model)
        # --8<-- [end:offline]
