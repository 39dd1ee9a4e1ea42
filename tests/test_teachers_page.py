"""The teachers' page lists every chapter, with the time each chapter states and real exercises."""

import importlib.util
import json
import pathlib
import re

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGE = (ROOT / "chapters" / "teachers.md").read_text()
SPEC = importlib.util.spec_from_file_location("chapter_times", ROOT / "tools" / "chapter_times.py")
chapter_times = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(chapter_times)
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
ROWS = re.findall(r"^\| \[\d+\. [^\]]+\]\(([\w.]+)\) \| (\d+) min \|.*\| (.*) \|$", PAGE, re.MULTILINE)


def _chapter(name):
    return json.loads((ROOT / "chapters" / name).read_text())


def test_every_chapter_has_a_row_in_order():
    assert [name for name, _, _ in ROWS] == [path.name for path in CHAPTERS]


def test_times_match_what_each_chapter_states():
    for name, minutes, _ in ROWS:
        notebook = _chapter(name)
        assert notebook["metadata"]["course"]["reading_minutes"] == int(minutes), name
        first_cell = "".join(notebook["cells"][0]["source"])
        assert f"**Time:** about {minutes} minutes" in first_cell, name


def test_times_follow_the_one_reading_model():
    """Every stated time is tools/chapter_times.py's estimate from the chapter's length."""
    for name, minutes, _ in ROWS:
        assert chapter_times.estimate(_chapter(name)) == int(minutes), f"{name}: run python tools/chapter_times.py --write"


def test_homework_exercises_exist_in_their_chapter():
    for name, _, homework in ROWS:
        labels = re.findall(r"\{ref\}`([\w-]+)`", homework)
        assert labels, name
        text = "".join("".join(cell["source"]) for cell in _chapter(name)["cells"])
        for label in labels:
            assert f":label: {label}\n" in text, f"{label} is not an exercise of {name}"


def test_teachers_page_is_in_the_table_of_contents():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    assert "chapters/teachers" in files
