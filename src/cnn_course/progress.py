"""Progress bars for training that show the same in a terminal and in a notebook.

``Sequential.fit`` draws one tqdm bar per epoch with :data:`PROGRESS_FORMAT`
on :func:`progress_stream`. Introduced in the chapter "Learning from scratch".
"""

import sys

__all__ = ["PROGRESS_FORMAT", "NotebookLines", "progress_stream"]

# No elapsed time, remaining time or rate: outputs must not depend on the machine.
PROGRESS_FORMAT = "{desc} {percentage:3.0f}%|{bar:24}| {n_fmt}/{total_fmt} batches{postfix}"


class NotebookLines:
    """A file for tqdm that shows its bars as one output updated in place.

    tqdm redraws a bar by writing ``"\\r"`` and the new text. A terminal
    overwrites the line, but a notebook stores every redraw as separate text,
    and a rendered page shows them all. Here the finished bars (one per
    epoch) and the current one form a single display output, replaced at
    every redraw, so only the final state is kept.
    """

    encoding = "utf-8"

    def __init__(self):
        self._finished = []
        self._current = ""
        self._handle = None

    def write(self, text):
        for index, piece in enumerate(text.split("\n")):
            if index > 0 and self._current.strip():
                # A newline ends the current bar: tqdm writes one when a bar is closed.
                self._finished.append(self._current.rstrip())
                self._current = ""
            if "\r" in piece:
                self._current = piece.rsplit("\r", 1)[1]
            else:
                self._current += piece
        lines = self._finished + ([self._current.rstrip()] if self._current.strip() else [])
        if not lines:
            return
        from IPython import display

        content = {"text/plain": "\n".join(lines)}
        if self._handle is None:
            self._handle = display.display(content, raw=True, display_id=True)
        else:
            self._handle.update(content, raw=True)

    def flush(self):
        pass


def progress_stream():
    """Standard output in a terminal; one updatable output line in a Jupyter kernel."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    if shell is not None and getattr(shell, "kernel", None) is not None:
        return NotebookLines()
    return sys.stdout
