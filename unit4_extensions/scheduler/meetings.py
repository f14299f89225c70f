"""A section's weekly meetings as a value: the same rule for "at the same time" as the
database's exclusion constraints (which compare `meeting_minutes`), for messages that say when."""

from dataclasses import dataclass
from datetime import time

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


@dataclass(frozen=True)
class Meeting:
    """The days a section meets each week, and its times on each of them (end excluded)."""

    days: frozenset[str]
    starts_at: time
    ends_at: time

    @classmethod
    def of(cls, section: dict) -> "Meeting":
        """The meetings of a section row (its `days`, `starts_at` and `ends_at`)."""
        return cls(frozenset(section["days"]), section["starts_at"], section["ends_at"])

    def shared_days(self, other: "Meeting") -> list[str]:
        """The days both meet, in week order."""
        return [day for day in WEEKDAYS if day in self.days and day in other.days]

    def overlaps(self, other: "Meeting") -> bool:
        """Whether both meet at once on some day; one ending as the other starts is no clash."""
        return (
            bool(self.shared_days(other))
            and self.starts_at < other.ends_at
            and other.starts_at < self.ends_at
        )

    def overlap_with(self, other: "Meeting") -> str:
        """When both meet, as people read it ("MON, WED 09:30-10:15"); empty if never."""
        if not self.overlaps(other):
            return ""
        starts_at = max(self.starts_at, other.starts_at)
        ends_at = min(self.ends_at, other.ends_at)
        days = ", ".join(self.shared_days(other))
        return f"{days} {starts_at:%H:%M}-{ends_at:%H:%M}"
