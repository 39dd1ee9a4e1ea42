"""Run one function over several pieces of work on every core.

Introduced in the chapter "Learning from scratch", section "Making it fast".
NumPy runs each operation on one core, but it lets go of Python's global lock
while it computes, so two Python threads can each run a long matrix product at
the same time. :func:`map_chunks` gives each thread a share of the pieces,
runs its own share on the calling thread too, and returns the results in order.

When the pieces depend only on the arrays' sizes (as in :mod:`cnn_course.fast`),
each is computed the same way whichever thread takes it, and the results are
the same numbers, bit for bit, on one core or on eight.

The number of threads is the number of cores this process may use, or
``CNN_COURSE_THREADS`` if it is set; :func:`threads` changes it for a block
of code. NumPy's matrix products should then run on one BLAS thread each
(``OPENBLAS_NUM_THREADS=1``, as the chapters set), or the two kinds of
threads compete for the same cores.
"""

import contextlib
import os
import queue
import threading

from cnn_course import checks

__all__ = ["split", "map_chunks", "thread_count", "threads"]


def _default_thread_count():
    """``CNN_COURSE_THREADS``, else the cores this process may run on."""
    setting = os.environ.get("CNN_COURSE_THREADS")
    if setting:
        try:
            count = int(setting)
        except ValueError:
            count = 0
        if count < 1:
            raise ValueError(f"CNN_COURSE_THREADS must be a positive whole number, got {setting!r}")
        return count
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no sched_getaffinity
        return os.cpu_count() or 1


_thread_count = _default_thread_count()


def thread_count():
    """The number of threads :func:`map_chunks` uses (the calling thread included)."""
    return _thread_count


@contextlib.contextmanager
def threads(count):
    """Use ``count`` threads in :func:`map_chunks` inside a ``with`` block.

    ``with parallel.threads(1): ...`` runs everything on the calling thread,
    for instance to check that the results do not depend on the threads.
    """
    global _thread_count
    count = checks.check_int(count, "count", 1)
    before, _thread_count = _thread_count, count
    try:
        yield
    finally:
        _thread_count = before


def split(count, parts):
    """Cut ``range(count)`` into at most ``parts`` consecutive slices of nearly equal length.

    Parameters
    ----------
    count : int
        The number of examples (the batch's first axis).
    parts : int
        How many slices to aim for; fewer if ``count`` is smaller.

    Returns
    -------
    list of slice
        In order; the first ``count % parts`` slices are one longer.
    """
    count = checks.check_int(count, "count", 0)
    parts = max(1, min(checks.check_int(parts, "parts", 1), count))
    size, extra = divmod(count, parts)
    slices, start = [], 0
    for index in range(parts):
        stop = start + size + (index < extra)
        slices.append(slice(start, stop))
        start = stop
    return slices


class _Workers:
    """Threads that wait for work, each on its own queue; started on first use."""

    def __init__(self):
        self.inboxes = []
        self.done = queue.SimpleQueue()
        # One map_chunks at a time uses the workers; a nested one (from a chunk, on any
        # thread) finds the lock taken and runs serially.
        self.busy = threading.Lock()

    def start(self, count):
        while len(self.inboxes) < count:
            inbox = queue.SimpleQueue()
            threading.Thread(target=self._work, args=(inbox,), daemon=True, name="cnn_course-worker").start()
            self.inboxes.append(inbox)

    def _work(self, inbox):
        while True:
            function, items = inbox.get()
            try:
                self.done.put((True, [(index, function(item)) for index, item in items]))
            except BaseException as error:  # handed to the caller, which raises it
                self.done.put((False, error))


_workers = _Workers()
# A child made by fork() has none of the parent's threads: it starts its own.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: globals().update(_workers=_Workers()))


def map_chunks(function, chunks):
    """``[function(chunk) for chunk in chunks]``, the chunks shared among the threads.

    Chunk ``i`` goes to thread ``i % thread_count()``; the calling thread
    takes its share too. Runs serially with one thread, for a single chunk,
    inside another ``map_chunks`` or while another thread is using the workers.

    Parameters
    ----------
    function : callable
        Takes one chunk. It must only write to memory no other chunk writes
        to (for example its own slice of an output array).
    chunks : list
        Usually slices from :func:`split`.

    Returns
    -------
    list
        ``function(chunk)`` for every chunk, in the chunks' order. An error
        in any chunk is raised here, after every thread has finished.
    """
    chunks = list(chunks)
    count = min(_thread_count, len(chunks))
    if count <= 1 or not _workers.busy.acquire(blocking=False):
        return [function(chunk) for chunk in chunks]
    try:
        _workers.start(count - 1)
        shares = [list(enumerate(chunks))[thread::count] for thread in range(count)]
        for inbox, share in zip(_workers.inboxes, shares[1:]):
            inbox.put((function, share))
        results = [None] * len(chunks)
        error = None
        try:
            for index, chunk in shares[0]:
                results[index] = function(chunk)
        except BaseException as raised:
            error = raised
        for _ in shares[1:]:  # wait for every worker, even after an error
            ok, value = _workers.done.get()
            if not ok:
                error = error or value
                continue
            for index, result in value:
                results[index] = result
        if error is not None:
            raise error
        return results
    finally:
        _workers.busy.release()

