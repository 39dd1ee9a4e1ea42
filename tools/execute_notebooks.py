"""Execute chapter notebooks in place, storing fresh outputs (``make outputs``).

The committed outputs are what nbval compares a new run with, so run this
after changing a chapter or a helper it uses. Each notebook's wall-clock
execution time is stored in its metadata (``course.execution_seconds``),
never in an output. Usage: ``python tools/execute_notebooks.py [notebook ...]``
(default: every ``chapters/*.ipynb``).
"""

import pathlib
import sys
import time

import nbclient
import nbformat

ROOT = pathlib.Path(__file__).resolve().parent.parent


def execute(path):
    """Run ``path`` top to bottom in its own folder and write it back; return seconds."""
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=900,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = merge_streams(cell.outputs)
    notebook.metadata.setdefault("course", {})["execution_seconds"] = round(seconds, 1)
    nbformat.write(notebook, path)
    return seconds


def merge_streams(outputs):
    """Join consecutive stdout (or stderr) outputs into one.

    How a kernel splits what a cell prints into stream messages depends on
    timing (a flush can land mid-line), so unmerged outputs would change from
    run to run with nothing else changed.
    """
    merged = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.output_type == "stream"
            and previous is not None
            and previous.output_type == "stream"
            and previous.name == output.name
        ):
            previous.text += output.text
        else:
            merged.append(output)
    return merged


def main(arguments):
    paths = [pathlib.Path(a).resolve() for a in arguments] or sorted((ROOT / "chapters").glob("*.ipynb"))
    for path in paths:
        print(f"executing {path.relative_to(ROOT)} ...", flush=True)
        seconds = execute(path)
        print(f"  done in {seconds:.1f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
