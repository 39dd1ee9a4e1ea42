"""Build the book (``make book``), re-executing every chapter when what the chapters run has changed.

jupyter-cache keys a notebook by its code cells only, and Sphinx re-reads only the pages whose
source changed, so an edit under ``src/`` (or a new lock file, or another MNIST file) would leave
``jupyter-book build`` green with the old outputs on the pages. This script fingerprints what the
chapters depend on beyond their own cells:

- every file under ``src/`` and ``_ext/`` (the course package and the Sphinx extension),
- ``pyproject.toml`` and the lock file (which versions are installed),
- the MNIST file the chapters load: its path and a hash of its content (``MNIST_NPZ``, or
  Keras's cached download when that variable is unset).

When the fingerprint differs from the one stored by the last successful build, or none is
stored, it removes the notebook cache and Sphinx's saved environment, so every chapter is
executed and every page read again. The fingerprint is stored only after a successful build, so
a failed build is never followed by a green one that merely skipped the failing page.

Usage: ``python tools/build_book.py [--root DIR]`` (default: this repository). Exits with the
build's own exit code.
"""

import argparse
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

TRACKED_FOLDERS = ("src", "_ext")
TRACKED_FILES = ("pyproject.toml", "requirements/lock.txt")
FINGERPRINT_FILE = ".book-inputs"
# What the build keeps between runs: the executed notebooks and Sphinx's environment.
CACHES = (".jupyter_cache", ".doctrees")


def mnist_file():
    """The MNIST file the chapters will read: ``MNIST_NPZ``, else Keras's cache (may not exist)."""
    named = os.environ.get("MNIST_NPZ")
    if named:
        return pathlib.Path(named).expanduser().absolute()
    keras_home = pathlib.Path(os.environ.get("KERAS_HOME", pathlib.Path.home() / ".keras"))
    return (keras_home / "datasets" / "mnist.npz").absolute()


def _hash_file(digest, path):
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)


def fingerprint(root):
    """A hex digest of everything the executed chapters depend on besides their own cells."""
    root = pathlib.Path(root)
    digest = hashlib.sha256()
    files = [root / name for name in TRACKED_FILES]
    for folder in TRACKED_FOLDERS:
        files.extend(sorted(p for p in (root / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts))
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        if path.is_file():
            _hash_file(digest, path)
        digest.update(b"\0")
    data = mnist_file()
    digest.update(f"mnist:{data}\0".encode())
    if data.is_file():
        _hash_file(digest, data)
    return digest.hexdigest()


def invalidate_if_stale(root):
    """Remove the build's caches unless the stored fingerprint matches; return the new fingerprint.

    The stored fingerprint is removed either way, so it exists only after a successful build.
    """
    build = pathlib.Path(root) / "_build"
    stored = build / FINGERPRINT_FILE
    current = fingerprint(root)
    previous = stored.read_text().strip() if stored.is_file() else None
    if previous != current:
        removed = [name for name in CACHES if (build / name).exists()]
        for name in removed:
            shutil.rmtree(build / name)
        if removed:
            print("build_book: src/, the lock file or the MNIST file changed since the last successful build: "
                  "every chapter is executed again", flush=True)
    stored.unlink(missing_ok=True)
    return current


def build(root):
    """Run ``jupyter-book build`` with warnings as errors; store the fingerprint when it succeeds."""
    root = pathlib.Path(root)
    current = invalidate_if_stale(root)
    jupyter_book = pathlib.Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run([str(jupyter_book), "build", str(root), "--warningiserror", "--keep-going"])
    if result.returncode == 0:
        (root / "_build" / FINGERPRINT_FILE).write_text(current + "\n")
    return result.returncode


def main(arguments=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(ROOT), help="the book's folder (default: this repository)")
    return build(parser.parse_args(arguments).root)


if __name__ == "__main__":
    sys.exit(main())
