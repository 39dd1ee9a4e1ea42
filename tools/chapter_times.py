"""Estimate each chapter's time from its length, and write it where the book states it.

The estimate is a reading model, the same for every chapter, so the times stay
consistent as chapters grow: prose (the markdown before the exercises) at 100
words a minute, visible code at 10 lines a minute (reading it and running it),
and one minute per figure, rounded to the nearest 5 minutes (at least 10).
Hidden cells, the exercises and the solutions are not counted: the times are
for the chapter itself, the exercises come on top.

Usage: ``python tools/chapter_times.py`` prints the table;
``python tools/chapter_times.py --write`` stores each time in the notebook's
metadata (``course.reading_minutes``), its first cell ("**Time:** about N
minutes") and the table of ``chapters/teachers.md``. tests/test_teachers_page.py
checks that the three agree with the estimate.
"""

import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
WORDS_PER_MINUTE = 100
CODE_LINES_PER_MINUTE = 10
MINUTES_PER_FIGURE = 1
HIDDEN_TAGS = {"hide-input", "hide-cell", "remove-cell", "remove-input"}


def length(notebook):
    """``(words, code_lines, figures)`` of the chapter before its exercises."""
    words = code_lines = figures = 0
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            if re.search(r"^## Exercises", source, re.MULTILINE):
                source = source[: re.search(r"^## Exercises", source, re.MULTILINE).start()]
                words += len(re.findall(r"[A-Za-z0-9']+", _without_directives(source)))
                break
            words += len(re.findall(r"[A-Za-z0-9']+", _without_directives(source)))
        elif cell["cell_type"] == "code" and not HIDDEN_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            code_lines += sum(1 for line in source.splitlines() if line.strip() and not line.strip().startswith("#"))
            figures += sum(1 for output in cell.get("outputs", []) if "image/png" in output.get("data", {}))
    return words, code_lines, figures


def _without_directives(text):
    # A literalinclude's options are not prose (the included source counts as nothing: the
    # reader skims it, and the chapter's own code carries the time).
    return re.sub(r"```\{literalinclude\}.*?```", "", text, flags=re.DOTALL)


def estimate(notebook):
    """The chapter's time in minutes by the reading model of this module."""
    words, code_lines, figures = length(notebook)
    minutes = words / WORDS_PER_MINUTE + code_lines / CODE_LINES_PER_MINUTE + figures * MINUTES_PER_FIGURE
    return max(10, 5 * round(minutes / 5))


def _write(path, minutes):
    notebook = json.loads(path.read_text())
    notebook["metadata"].setdefault("course", {})["reading_minutes"] = minutes
    first = "".join(notebook["cells"][0]["source"])
    first, count = re.subn(r"\*\*Time:\*\* about \d+ minutes", f"**Time:** about {minutes} minutes", first)
    if count != 1:
        raise SystemExit(f"{path.name}: its first cell must state '**Time:** about N minutes' once")
    notebook["cells"][0]["source"] = first.splitlines(keepends=True)
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
    teachers = ROOT / "chapters" / "teachers.md"
    page, count = re.subn(rf"(^\| \[\d+\. [^\]]+\]\({re.escape(path.name)}\) \| )\d+( min \|)",
                          rf"\g<1>{minutes}\g<2>", teachers.read_text(), flags=re.MULTILINE)
    if count != 1:
        raise SystemExit(f"chapters/teachers.md must have one row for {path.name}")
    teachers.write_text(page)


def main(arguments):
    for path in CHAPTERS:
        notebook = json.loads(path.read_text())
        words, code_lines, figures = length(notebook)
        minutes = estimate(notebook)
        print(f"{path.name:40} {words:5} words {code_lines:4} code lines {figures:3} figures -> {minutes:3} min")
        if "--write" in arguments:
            _write(path, minutes)


if __name__ == "__main__":
    main(sys.argv[1:])
