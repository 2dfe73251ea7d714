"""deploy/Dockerfile and its ignore file agree with the package, the CLI and the settings."""

from __future__ import annotations

import json
import re
import shlex
import tomllib

from newsflow.cli import build_parser
from services.enrich.settings import EnrichSettings
from services.ingest.settings import IngestSettings
from services.sink.settings import SinkSettings
from tests.unit.deploy.files import (
    DEPLOY,
    ROOT,
    SERVICES,
    dockerfile_instructions,
    field_default,
    service_env_names,
)

INSTRUCTIONS = dockerfile_instructions(DEPLOY / "Dockerfile")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _all(keyword: str) -> list[str]:
    return [arguments for name, arguments in INSTRUCTIONS if name == keyword]


def _final_stage() -> list[tuple[str, str]]:
    starts = [i for i, (name, _) in enumerate(INSTRUCTIONS) if name == "FROM"]
    return INSTRUCTIONS[starts[-1] :]


def _copied_from_context() -> set[str]:
    """Every COPY source taken from the build context (not from another stage)."""
    return {
        source.rstrip("/")
        for arguments in _all("COPY")
        if not arguments.startswith("--from")
        for source in arguments.split()[:-1]
    }


def _env_assignments() -> dict[str, str]:
    pairs: dict[str, str] = {}
    for arguments in _all("ENV"):
        for token in shlex.split(arguments):
            name, _, value = token.partition("=")
            pairs[name] = value
    return pairs


def test_every_stage_builds_on_python_311_slim() -> None:
    """Both stages start from the python:3.11-slim default of the PYTHON_IMAGE argument."""
    assert _all("ARG") == ["PYTHON_IMAGE=python:3.11-slim"]
    assert [arguments.split()[0] for arguments in _all("FROM")] == ["${PYTHON_IMAGE}"] * 2


def test_entrypoint_is_the_console_script_and_the_default_command_is_ingest() -> None:
    """ENTRYPOINT runs pyproject's `newsflow` script and CMD names a real subcommand."""
    assert PYPROJECT["project"]["scripts"]["newsflow"] == "newsflow.cli:main"
    assert json.loads(_all("ENTRYPOINT")[-1]) == ["newsflow"]
    command = json.loads(_all("CMD")[-1])
    assert command == ["ingest"]
    assert build_parser().parse_args(command).command == "ingest"


def test_runtime_runs_as_a_fixed_non_root_uid() -> None:
    """The final stage switches to uid 10001 before the entrypoint, never back to root."""
    users = [arguments for name, arguments in _final_stage() if name == "USER"]
    assert users == ["10001:10001"]
    assert "--uid 10001" in next(a for n, a in _final_stage() if n == "RUN")


def test_the_image_copies_every_installed_package_and_the_metadata() -> None:
    """COPY brings pyproject, the readme setuptools reads and each package pyproject includes."""
    copied = _copied_from_context()
    packages = {
        pattern.rstrip("*")
        for pattern in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    assert packages == {"newsflow", "services", "schemas"}
    assert {"pyproject.toml", PYPROJECT["project"]["readme"], *packages} <= copied
    for source in copied:
        assert (ROOT / source).exists(), source


def test_the_ignore_file_lets_through_exactly_what_is_copied() -> None:
    """The allow-list ignore file re-includes every COPY source and nothing else."""
    lines = [
        line
        for line in (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert lines[0] == "*"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    copied = _copied_from_context()
    assert allowed == copied


def test_exposed_ports_are_the_settings_defaults() -> None:
    """EXPOSE lists ingest's HTTP port and the enrich and sink metrics ports, as defaulted."""
    exposed = {int(port) for port in _all("EXPOSE")[-1].split()}
    assert exposed == {
        field_default(IngestSettings, "http_port"),
        field_default(EnrichSettings, "metrics_port"),
        field_default(SinkSettings, "metrics_port"),
    }


def test_image_environment_names_are_settings_fields() -> None:
    """Every NEWSFLOW_*/KAFKA_* ENV of the image is read by at least one service."""
    read = frozenset().union(*(service_env_names(service) for service in SERVICES))
    ours = {name for name in _env_assignments() if re.match(r"(NEWSFLOW|KAFKA)_", name)}
    assert ours == {
        "NEWSFLOW_HTTP_HOST",
        "NEWSFLOW_METRICS_HOST",
        "NEWSFLOW_DATA_DIR",
        "NEWSFLOW_CACHE_DIR",
    }
    assert ours <= read
    # Listeners bind every interface inside a container, or nothing outside could reach them.
    assert _env_assignments()["NEWSFLOW_HTTP_HOST"] == "0.0.0.0"
    assert _env_assignments()["NEWSFLOW_METRICS_HOST"] == "0.0.0.0"


def test_healthcheck_runs_the_probe_the_image_copies() -> None:
    """HEALTHCHECK runs deploy/healthcheck.py at the path COPY puts it."""
    healthcheck = _all("HEALTHCHECK")[-1]
    command = json.loads(healthcheck.split("CMD", 1)[1])
    assert command[0] == "python"
    assert f"deploy/healthcheck.py {command[1]}" in _all("COPY")
    assert (DEPLOY / "healthcheck.py").is_file()


def test_language_model_is_unpacked_where_the_image_points_the_cache() -> None:
    """The build unpacks the language model into NEWSFLOW_CACHE_DIR, so replicas start fast."""
    cache = _env_assignments()["NEWSFLOW_CACHE_DIR"]
    assert any("load_identifier" in run and cache in run for run in _all("RUN"))
