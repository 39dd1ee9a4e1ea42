"""Every exercise of the book has a check, the student can run it, and every check is tested."""

import json
import pathlib
import re

import pytest

from cnn_course import exercises

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
EXERCISE = re.compile(r"```\{exercise\}[^\n]*\n:label: (\S+)")
CHECK_CALL = re.compile(r"exercises\.(check_\w+)\(")


def exercises_and_checks(path):
    """Each exercise label of a chapter with the checks called between it and the next exercise.

    Two lists per exercise: the checks called in cells the reader sees (the
    answer cell) and in hidden cells (the solution's).
    """
    found = []
    for cell in json.loads(path.read_text())["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            for label in EXERCISE.findall(source):
                found.append((label, [], []))
        elif found:
            hidden = "hide-input" in cell.get("metadata", {}).get("tags", [])
            found[-1][2 if hidden else 1].extend(CHECK_CALL.findall(source))
    return found


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_every_exercise_has_a_visible_check_and_its_solution_passes_it(path):
    found = exercises_and_checks(path)
    assert found, f"{path.name} has no exercises"
    for label, visible, hidden in found:
        assert visible, f"{path.name}: exercise {label} has no cell where the student runs a check"
        assert set(visible) <= set(exercises.__all__), (label, visible)
        assert set(visible) <= set(hidden), f"{path.name}: the solution of {label} is not run through {visible}"


def test_every_check_is_used_by_an_exercise_and_tested():
    used = {check for path in CHAPTERS for _, visible, _ in exercises_and_checks(path) for check in visible}
    tests = "".join(path.read_text() for path in (ROOT / "tests").glob("test_exercise*.py"))
    for name in exercises.__all__:
        assert name.startswith("check_") and callable(getattr(exercises, name)), name
        assert name in used, f"{name} is not used by any exercise"
        assert re.search(rf"\b{name}\b", tests), f"{name} is not tested"
