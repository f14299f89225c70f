"""Print the third-party requirements of the given pyproject.toml files, one a line.

The image installs these on their own, in a layer of their own, before it copies the code:
that layer is rebuilt only when a pyproject or the pin file changes, not on every edit.
The given projects themselves (scheduler-common here) are left out; they come with the code.
"""

import re
import sys
import tomllib
from pathlib import Path

NAME = re.compile(r"[A-Za-z0-9._-]+")


def normalized(name: str) -> str:
    """A project name as pip compares it: `Scheduler_Common` is `scheduler-common`."""
    return re.sub(r"[-_.]+", "-", name).lower()


# --8<-- [start:third-party]
def third_party(pyprojects: list[Path]) -> list[str]:
    """Every dependency of the projects that is not one of the projects, each once, in order."""
    projects = [tomllib.loads(path.read_text())["project"] for path in pyprojects]
    ours = {normalized(project["name"]) for project in projects}
    wanted = []
    for project in projects:
        for requirement in project.get("dependencies", []):
            name = normalized(NAME.match(requirement)[0])
            if name not in ours and requirement not in wanted:
                wanted.append(requirement)
    return wanted
    # --8<-- [end:third-party]


if __name__ == "__main__":
    print("\n".join(third_party([Path(arg) for arg in sys.argv[1:]])))
