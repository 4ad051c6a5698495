"""Print pip constraints that pin every runtime dependency to its lowest
allowed version.

CI installs with them once (`pip install -c floors.txt -e .[dev]`) and runs
the tests, so a lower bound in pyproject.toml is a version the tests have run
on, not a guess. The dev tools (pytest, ruff, ...) stay free.
"""

import re
import sys
import tomllib
from pathlib import Path

_FLOOR = re.compile(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*(?:[^>]*?)>=\s*([^,;\s]+)")


def floors(pyproject: Path) -> list[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    pins = []
    for requirement in project["dependencies"]:
        match = _FLOOR.match(requirement)
        if match:
            pins.append(f"{match.group(1)}=={match.group(2)}")
    return pins


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    sys.stdout.write("".join(f"{pin}\n" for pin in floors(root / "pyproject.toml")))
