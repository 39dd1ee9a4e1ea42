"""Every chapter notebook carries clean, stored outputs, so nbval has something to compare.

nbval re-runs each notebook and compares with these outputs; a notebook stored
without outputs would make it compare nothing, so that is a failure here.
"""

import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
ABSOLUTE_PATH = re.compile(r"(/home/|/root/|/work/|/tmp/|/Users/|/private/var/|[A-Z]:\\\\)")
TENSORFLOW_LOG = re.compile(r"(oneDNN|cudart_stub|cuInit|absl::|^[IWE]\d{4} \d\d:\d\d)", re.MULTILINE)


def _outputs(notebook):
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] == "code":
            for output in cell.get("outputs", []):
                yield index, output


def _text(output):
    parts = [output.get("text", "")] + [value for key, value in output.get("data", {}).items() if key.startswith("text/")]
    return "".join("".join(part) if isinstance(part, list) else str(part) for part in parts)


def test_there_are_chapters():
    assert len(NOTEBOOKS) >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_executed_and_clean(path):
    notebook = json.loads(path.read_text())
    code_cells = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code_cells, "a chapter without code"
    unexecuted = [i for i, cell in enumerate(code_cells) if cell.get("execution_count") is None]
    assert not unexecuted, f"code cells {unexecuted} have no stored outputs: run `make outputs`"
    for index, output in _outputs(notebook):
        assert output["output_type"] != "error", f"cell {index} stored an error"
        assert output.get("name") != "stderr", f"cell {index} wrote to stderr: {_text(output)[:200]!r}"
        text = _text(output)
        assert not ABSOLUTE_PATH.search(text), f"cell {index} shows an absolute path: {ABSOLUTE_PATH.search(text)[0]}"
        assert not TENSORFLOW_LOG.search(text), f"cell {index} shows a TensorFlow log line"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_has_one_title_and_a_python_kernel(path):
    notebook = json.loads(path.read_text())
    first = notebook["cells"][0]
    assert first["cell_type"] == "markdown" and "".join(first["source"]).startswith("# ")
    # Lines inside fenced blocks (``` or :::) are code or directives, not headings.
    markdown = "\n".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "markdown")
    prose = re.sub(r"^(```|:::)[^\n]*\n.*?^\1[^\n]*$", "", markdown, flags=re.MULTILINE | re.DOTALL)
    titles = [line for line in prose.splitlines() if line.startswith("# ")]
    assert len(titles) == 1, f"expected one H1 title, found {titles}"
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_name_is_numbered_snake_case(path):
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name)
