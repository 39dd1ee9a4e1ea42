"""Check the built book for leaks and noise (``make book`` runs this after building).

Every HTML page under the build directory must be free of
- absolute paths of the machine that built it (the project folder, the home folder,
  a virtual environment's ``site-packages``);
- TensorFlow/absl log lines ("oneDNN custom operations ...", "cudart_stub ...");
- Python tracebacks and error outputs;
- stderr outputs and MyST-NB's warnings about cells that failed or did not run.

Usage: ``python tools/check_built_html.py [_build/html]``. Prints one line per
problem and exits 1 if there is any, else prints how many pages were checked.
"""

import html
import os
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

# (name, pattern) pairs; each pattern is searched in the raw HTML of every page.
CHECKS = [
    ("TensorFlow/absl log line", re.compile(r"oneDNN custom operations|cudart_stub|cuInit|absl::|Unable to register cu(?:DNN|FFT|BLAS)|^[IWE]\d{4} \d\d:\d\d:\d\d", re.MULTILINE)),
    ("Python traceback", re.compile(r"Traceback \(most recent call last\)|class=\"[^\"]*\boutput traceback\b")),
    ("error output", re.compile(r"class=\"[^\"]*\boutput error\b|\w+Error</span>: |CellExecutionError")),
    ("stderr output", re.compile(r"class=\"[^\"]*\boutput stderr\b")),
    ("notebook execution warning", re.compile(r"(?i)notebook (?:execution|was not) (?:failed|executed)|cell (?:was not|not) executed|execution_count.{0,20}null")),
]


def absolute_path_pattern(extra_paths=()):
    """A pattern matching the build machine's own folders, wherever they appear in a page."""
    folders = {str(ROOT), str(pathlib.Path.home()), *map(str, extra_paths)}
    folders = sorted((f for f in folders if len(f) > 1), key=len, reverse=True)
    alternatives = [re.escape(folder) + r"(?:/|\b)" for folder in folders] + [r"/[\w./-]*site-packages/"]
    return re.compile("|".join(alternatives))


def check_page(text, path_pattern):
    """Return ``[(problem, excerpt), ...]`` for one page's HTML."""
    problems = []
    for name, pattern in [("absolute path", path_pattern)] + CHECKS:
        for match in pattern.finditer(text):
            start = max(0, match.start() - 60)
            excerpt = html.unescape(text[start : match.end() + 60]).replace("\n", " ")
            problems.append((name, excerpt))
    return problems


def main(arguments):
    build = pathlib.Path(arguments[0] if arguments else ROOT / "_build" / "html")
    pages = sorted(build.rglob("*.html"))
    if not pages:
        print(f"check_built_html: no HTML pages under {build}; build the book first (make book)")
        return 1
    pattern = absolute_path_pattern([os.environ.get("VIRTUAL_ENV", "")])
    failures = 0
    for page in pages:
        # Sphinx's own _sources copies are the notebooks' text, not pages; skip them.
        if "_sources" in page.parts:
            continue
        for name, excerpt in check_page(page.read_text(encoding="utf-8", errors="replace"), pattern):
            failures += 1
            print(f"{page.relative_to(build)}: {name}: ...{excerpt}...")
    if failures:
        print(f"check_built_html: {failures} problem(s) in {build}")
        return 1
    print(f"check_built_html: {len(pages)} pages clean (no machine paths, log lines, tracebacks or stderr)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
