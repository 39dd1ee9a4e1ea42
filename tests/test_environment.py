"""environment.yml (conda, Binder) and pyproject.toml (pip, make) name the same packages."""

import pathlib
import re
import tomllib

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _split(requirement):
    """'Jupyter_Book >=1.0.4,<2' -> ('jupyter-book', '>=1.0.4,<2')."""
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*", requirement)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower(), match.group(2).replace(" ", "")


def pyproject_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements.extend(extra)
    return dict(_split(r) for r in requirements)


def environment_requirements():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    found = {}
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):
            found.update(_split(r) for r in entry["pip"] if not r.startswith("-e"))
        elif not entry.startswith(("python=", "pip")) or entry.startswith("pip "):
            found.update([_split(entry)])
    return found


def test_environment_matches_pyproject():
    assert environment_requirements() == pyproject_requirements()


def test_environment_installs_the_course_package():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(entry["pip"] for entry in environment["dependencies"] if isinstance(entry, dict))
    assert "-e ." in pip_section


def test_jupyter_book_stays_below_2():
    assert pyproject_requirements()["jupyter-book"] == ">=1.0.4,<2"
