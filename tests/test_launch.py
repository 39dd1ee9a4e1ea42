"""Launch buttons and the set-up cell that lets every chapter run on Colab unchanged."""

import json
import pathlib
import re

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


def _first_code_cell(path):
    notebook = json.loads(path.read_text())
    return next(cell for cell in notebook["cells"] if cell["cell_type"] == "code")


def test_book_has_colab_and_binder_launch_buttons_and_downloads():
    assert CONFIG["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert CONFIG["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert CONFIG["html"]["use_download_button"] is True
    # Launch buttons need the repository; Binder builds its environment from environment.yml.
    assert CONFIG["repository"]["url"].startswith("https://github.com/")
    assert (ROOT / "environment.yml").is_file()


def test_every_chapter_installs_cnn_course_from_the_configured_repository():
    repository = CONFIG["repository"]["url"]
    assert len(CHAPTERS) >= 10
    for path in CHAPTERS:
        cell = _first_code_cell(path)
        source = "".join(cell["source"])
        assert re.search(r"try:\n    import cnn_course\nexcept ModuleNotFoundError:\n", source), path.name
        urls = re.findall(r'"cnn_course @ git\+(\S+)"', source)
        assert urls == [repository], f"{path.name} installs from {urls}, _config.yml says {repository}"
        # Locally the package is installed, so the cell does nothing and shows nothing.
        assert cell["outputs"] == [], path.name
        assert "hide-cell" in cell["metadata"].get("tags", []), path.name


def test_setup_cell_is_a_no_op_where_cnn_course_is_installed():
    source = "".join(_first_code_cell(CHAPTERS[0])["source"])
    # Run the cell's Python with the IPython magic line replaced: it must not try to install.
    calls = []
    namespace = {"install": calls.append}
    exec(re.sub(r"%pip install .*", "install('pip')", source), namespace)
    assert calls == [] and "cnn_course" in namespace


def test_every_link_to_the_repository_uses_the_configured_address():
    # The address is written in a few documents; moving the repository must change them all.
    repository = CONFIG["repository"]["url"]
    documents = [ROOT / "README.md", *sorted((ROOT / "chapters").glob("*.md")), *CHAPTERS]
    for path in documents:
        for address in re.findall(r"https://github\.com/[\w.-]+/[\w.-]+", path.read_text()):
            assert address == repository, f"{path.name} links {address}, _config.yml says {repository}"
