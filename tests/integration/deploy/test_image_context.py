"""The files deploy/Dockerfile copies are enough to build the newsflow package it installs.

No container engine runs here, so the build stage is replayed with pip: the context is
assembled from the Dockerfile's COPY sources (through the allow-list ignore file), a wheel
is built from it the way `pip install .` does, and its contents are compared with the
repository's packages.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.unit.deploy.files import DEPLOY, ROOT, dockerfile_instructions

pytestmark = pytest.mark.integration

BUILD_TIMEOUT_S = 300


def _build_stage_sources() -> list[str]:
    """The COPY sources of the build stage (those copied from the context, not a stage)."""
    sources: list[str] = []
    for keyword, arguments in dockerfile_instructions(DEPLOY / "Dockerfile"):
        if keyword == "FROM" and sources:
            break
        if keyword == "COPY" and not arguments.startswith("--from"):
            sources.extend(arguments.split()[:-1])
    return sources


def _package_files() -> set[str]:
    """Every module and data file the repository's packages hold, relative to the root."""
    wanted = {".py", ".sql", ".json"}
    return {
        str(path.relative_to(ROOT))
        for package in ("newsflow", "services", "schemas")
        for path in (ROOT / package).rglob("*")
        if path.suffix in wanted and "__pycache__" not in path.parts
    }


def test_build_context_builds_a_complete_wheel(tmp_path: Path) -> None:
    """A wheel built from only the copied files holds every module, migration and schema."""
    context = tmp_path / "context"
    context.mkdir()
    for source in _build_stage_sources():
        origin = ROOT / source
        if origin.is_dir():
            shutil.copytree(origin, context / source, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, context / source)
    wheels = tmp_path / "wheels"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), "."],
        cwd=context,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = wheels.glob("newsflow-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        scripts = archive.read(entry_points).decode()
    assert _package_files() <= names, sorted(_package_files() - names)
    assert "newsflow = newsflow.cli:main" in scripts
