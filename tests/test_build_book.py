"""`make book` never shows stale pages: a change under src/, to the lock file or to the MNIST
file re-executes the chapters (tools/build_book.py), while an unchanged rebuild executes nothing."""

import importlib.util
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("build_book", ROOT / "tools" / "build_book.py")
build_book = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_book)

CONFIG = """\
title: stale-page test
execute:
  execute_notebooks: cache
  allow_errors: false
  run_in_temp: false
sphinx:
  config:
    nb_output_stderr: error
"""


def _notebook():
    source = "import sys\nsys.path.insert(0, 'src')\nimport helper\nprint('value', helper.value())"
    return {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# One page"},
            {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": source},
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


@pytest.fixture
def book(tmp_path, monkeypatch):
    """A one-page book whose only cell prints ``helper.value()`` from its own ``src/``."""
    (tmp_path / "_config.yml").write_text(CONFIG)
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    (tmp_path / "page.ipynb").write_text(json.dumps(_notebook()))
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "helper.py").write_text("def value():\n    return 1\n")
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "lock.txt").write_text("numpy==2.0.0\n")
    mnist = tmp_path / "mnist.npz"
    mnist.write_bytes(b"first")
    monkeypatch.setenv("MNIST_NPZ", str(mnist))
    return tmp_path


def _build(root):
    """Build the book in a fresh interpreter, as `make book` does; return (exit code, page text)."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_book.py"), "--root", str(root)],
        capture_output=True, text=True, env={**os.environ, "PATH": f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"},
    )
    page = root / "_build" / "html" / "page.html"
    return result.returncode, page.read_text() if page.is_file() else "", result.stdout + result.stderr


@pytest.mark.slow
def test_an_edit_under_src_re_executes_the_chapters_and_a_broken_helper_fails_the_build(book):
    code, page, log = _build(book)
    assert code == 0, log
    assert "value 1" in page

    code, page, log = _build(book)  # unchanged: served from the cache
    assert code == 0, log
    assert "every chapter is executed again" not in log

    (book / "src" / "helper.py").write_text("def value():\n    return 2\n")
    code, page, log = _build(book)
    assert code == 0, log
    assert "every chapter is executed again" in log
    assert "value 2" in page and "value 1" not in page

    (book / "src" / "helper.py").write_text("def value():\n    raise RuntimeError('broken helper')\n")
    code, _, log = _build(book)
    assert code != 0, "a chapter that fails must fail the build"

    # The failed build stored no fingerprint, so the next build executes the page again and fails again.
    code, _, log = _build(book)
    assert code != 0, "a failed build must not be followed by a green one that skipped the page"

    (book / "src" / "helper.py").write_text("def value():\n    return 3\n")
    code, page, log = _build(book)
    assert code == 0, log
    assert "value 3" in page


def test_the_fingerprint_follows_src_the_lock_file_and_the_mnist_file(book, monkeypatch):
    first = build_book.fingerprint(book)
    assert build_book.fingerprint(book) == first

    def another_mnist_file_with_the_same_content():
        shutil.copy(book / "mnist.npz", book / "other.npz")
        monkeypatch.setenv("MNIST_NPZ", str(book / "other.npz"))

    changes = [
        lambda: (book / "src" / "helper.py").write_text("def value():\n    return 2\n"),
        lambda: (book / "src" / "new_module.py").write_text("X = 1\n"),
        lambda: (book / "requirements" / "lock.txt").write_text("numpy==2.0.1\n"),
        lambda: (book / "mnist.npz").write_bytes(b"second"),
        another_mnist_file_with_the_same_content,
        lambda: monkeypatch.delenv("MNIST_NPZ"),
    ]
    seen = {first}
    for change in changes:
        change()
        current = build_book.fingerprint(book)
        assert current not in seen
        seen.add(current)
    (book / "src" / "__pycache__").mkdir()
    (book / "src" / "__pycache__" / "helper.cpython.pyc").write_bytes(b"compiled")
    assert build_book.fingerprint(book) in seen, "byte-code caches are not inputs"


def test_a_stale_build_loses_its_caches(book):
    build = book / "_build"
    for name in build_book.CACHES:
        (build / name).mkdir(parents=True)
    (build / build_book.FINGERPRINT_FILE).write_text(build_book.fingerprint(book) + "\n")
    build_book.invalidate_if_stale(book)
    assert all((build / name).exists() for name in build_book.CACHES), "an unchanged book keeps its caches"

    (build / build_book.FINGERPRINT_FILE).write_text(build_book.fingerprint(book) + "\n")
    (book / "src" / "helper.py").write_text("def value():\n    return 5\n")
    build_book.invalidate_if_stale(book)
    assert not any((build / name).exists() for name in build_book.CACHES)
