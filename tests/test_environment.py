"""The lock (requirements/lock.txt, what `make` installs), pyproject.toml's ranges and
environment.yml (conda, Binder) agree."""

import pathlib
import re
import tomllib

import pytest
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = pathlib.Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "lock.txt"

# Where the lock must work: pyproject.toml's [tool.uv] environments.
PYTHONS = ["3.10.0", "3.11.0", "3.11.7", "3.12.0", "3.13.0", "3.13.9"]
PLATFORMS = [("linux", "x86_64"), ("linux", "aarch64"), ("darwin", "arm64")]


def marker_environment(python, sys_platform, machine):
    environment = default_environment()
    environment.update(
        implementation_name="cpython",
        platform_python_implementation="CPython",
        implementation_version=python,
        python_full_version=python,
        python_version=".".join(python.split(".")[:2]),
        sys_platform=sys_platform,
        platform_system={"linux": "Linux", "darwin": "Darwin"}[sys_platform],
        platform_machine=machine,
        os_name="posix",
    )
    return environment


def lock_entries():
    """Every requirement line of the lock, comments and annotations removed."""
    lines = (line.split("#")[0].strip() for line in LOCK.read_text().splitlines())
    return [Requirement(line) for line in lines if line]


def locked_versions(environment):
    """{name: version} that the lock installs in one environment (its markers evaluated)."""
    found = {}
    for entry in lock_entries():
        if entry.marker is None or entry.marker.evaluate(environment):
            name = canonicalize_name(entry.name)
            assert name not in found, f"{name} is pinned twice for {environment['python_full_version']}"
            (specifier,) = entry.specifier
            assert specifier.operator == "==", f"{entry} is not an exact pin"
            found[name] = specifier.version
    return found


def pyproject_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements.extend(extra)
    return [Requirement(r) for r in requirements]


def conda_environment():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [entry for entry in environment["dependencies"] if isinstance(entry, str)]
    (pip,) = [entry["pip"] for entry in environment["dependencies"] if isinstance(entry, dict)]
    return conda, pip


def test_lock_has_only_exact_pins_and_not_the_course_itself():
    for entry in lock_entries():
        assert not entry.extras and not entry.url, entry
        assert canonicalize_name(entry.name) != "cnn-course", "the course is installed with -e, not from the lock"


@pytest.mark.parametrize("sys_platform,machine", PLATFORMS)
@pytest.mark.parametrize("python", PYTHONS)
def test_lock_pins_every_requirement_within_pyproject_ranges(python, sys_platform, machine):
    environment = marker_environment(python, sys_platform, machine)
    locked = locked_versions(environment)
    for requirement in pyproject_requirements():
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in {LOCK.name} for Python {python} on {sys_platform}: run make lock"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"{name}=={locked[name]} in the lock is outside pyproject.toml's {requirement.specifier}: run make lock"
        )


def test_environment_yml_installs_the_locks_versions():
    conda, pip = conda_environment()
    (python,) = [entry.removeprefix("python=") for entry in conda if entry.startswith("python=")]
    assert re.fullmatch(r"3\.\d+\.\d+", python), "environment.yml pins one Python release"
    assert sorted(conda) == sorted([f"python={python}", "pip"]), "conda installs only Python and pip"
    pins = {}
    for line in pip:
        if line != "-e .":
            requirement = Requirement(line)
            (specifier,) = requirement.specifier
            assert specifier.operator == "==" and requirement.marker is None, line
            pins[canonicalize_name(requirement.name)] = specifier.version
    assert pins == locked_versions(marker_environment(python, "linux", "x86_64")), (
        "environment.yml and requirements/lock.txt disagree: run make lock"
    )


def test_environment_installs_the_course_package():
    _, pip = conda_environment()
    assert "-e ." in pip


def test_jupyter_book_stays_below_2():
    (requirement,) = [r for r in pyproject_requirements() if r.name == "jupyter-book"]
    assert requirement.specifier == SpecifierSet(">=1.0.4,<2")
    for python in PYTHONS:
        locked = locked_versions(marker_environment(python, "linux", "x86_64"))
        assert Version(locked["jupyter-book"]) < Version("2")
