"""The built-HTML checker that ``make book`` runs: it must catch each kind of leak."""

import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("check_built_html", ROOT / "tools" / "check_built_html.py")
check_built_html = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_built_html)

PATTERN = check_built_html.absolute_path_pattern()
CLEAN = '<div class="cell_output docutils container"><pre>epoch 1/5  accuracy 0.8791</pre></div>'


@pytest.mark.parametrize(
    "snippet, problem",
    [
        (f"<pre>{ROOT}/chapters/01_images_as_arrays.ipynb</pre>", "absolute path"),
        (f"<pre>{pathlib.Path.home()}/.keras/datasets/mnist.npz</pre>", "absolute path"),
        ("<pre>/opt/venv/lib/python3.11/site-packages/keras/src/trainer.py</pre>", "absolute path"),
        ("<pre>I0000 00:00:1700000000.1 oneDNN custom operations are on.</pre>", "TensorFlow/absl log line"),
        ("<pre>E1125 13:02:11.123 cuInit failed</pre>", "TensorFlow/absl log line"),
        ("<pre>Traceback (most recent call last):\n  File ...</pre>", "Python traceback"),
        ('<div class="output traceback highlight-ipythontb">', "Python traceback"),
        ('<div class="output stderr highlight-myst-ansi">', "stderr output"),
        ("<p>Notebook execution failed</p>", "notebook execution warning"),
    ],
)
def test_each_leak_is_caught(snippet, problem):
    found = [name for name, _ in check_built_html.check_page(CLEAN + snippet, PATTERN)]
    assert problem in found


def test_a_clean_page_passes():
    assert check_built_html.check_page(CLEAN + "<p>The stride is 2; ValueError names the argument.</p>", PATTERN) == []


def test_main_reports_problems_and_fails(tmp_path, capsys):
    (tmp_path / "good.html").write_text(CLEAN)
    (tmp_path / "bad.html").write_text("<pre>Traceback (most recent call last):</pre>")
    assert check_built_html.main([str(tmp_path)]) == 1
    assert "bad.html: Python traceback" in capsys.readouterr().out
    (tmp_path / "bad.html").unlink()
    assert check_built_html.main([str(tmp_path)]) == 0


def test_main_fails_when_nothing_was_built(tmp_path, capsys):
    assert check_built_html.main([str(tmp_path)]) == 1
    assert "build the book first" in capsys.readouterr().out
