"""Readers of the deploy files, and the settings names the services really read.

The valid environment variable names are derived from the pydantic-settings classes (their
env prefix, field names and aliases), never listed by hand, so a renamed setting fails the
deploy tests until the deploy files follow.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from newsflow.settings import KafkaSettings
from services.enrich.settings import EnrichSettings
from services.ingest.settings import IngestSettings
from services.sink.settings import SinkSettings

ROOT: Final = Path(__file__).resolve().parents[3]
DEPLOY: Final = ROOT / "deploy"
SERVICES: Final = ("ingest", "enrich", "sink")
SETTINGS_OF: Final[Mapping[str, tuple[type[BaseSettings], ...]]] = {
    "ingest": (KafkaSettings, IngestSettings),
    "enrich": (KafkaSettings, EnrichSettings),
    "sink": (KafkaSettings, SinkSettings),
}
"""The settings classes each `newsflow <service>` reads (see newsflow/cli.py)."""

ApplyEnv = Callable[[Mapping[str, str]], None]
"""The `service_env` fixture: puts a service's variables into this process's environment."""

_INTERPOLATION: Final = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?::?(?P<op>[-?])(?P<arg>[^}]*))?\}")


def env_names(settings: type[BaseSettings]) -> frozenset[str]:
    """Every environment variable name `settings` reads, upper-cased."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    names: set[str] = set()
    for field_name, field in settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, str):
            names.add(alias.upper())
        elif isinstance(alias, AliasChoices):
            names.update(choice.upper() for choice in alias.choices if isinstance(choice, str))
        else:
            names.add(f"{prefix}{field_name}".upper())
    return frozenset(names)


def service_env_names(service: str) -> frozenset[str]:
    """The names `newsflow <service>` reads from its environment."""
    return frozenset().union(*(env_names(cls) for cls in SETTINGS_OF[service]))


def field_default(settings: type[BaseSettings], name: str) -> Any:
    """A settings field's declared default."""
    return settings.model_fields[name].default


def load_yaml(path: Path) -> Any:
    """One YAML document."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_yaml_all(path: Path) -> list[Any]:
    """Every non-empty document of a multi-document YAML file."""
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def compose_value(value: object, secrets: Mapping[str, str]) -> str:
    """A compose environment value as the container sees it.

    `${NAME:?message}` takes `secrets[NAME]` (the operator must set it), `${NAME:-default}`
    the default, `$$` is a literal `$`; YAML booleans and numbers become their text.
    """
    if isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = "" if value is None else str(value)

    def substitute(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if op == "-":
            return secrets.get(name, arg)
        return secrets[name]

    return _INTERPOLATION.sub(substitute, text).replace("$$", "$")


def k8s_documents() -> list[dict[str, Any]]:
    """Every manifest the kustomization lists, in order."""
    folder = DEPLOY / "k8s"
    kustomization = load_yaml(folder / "kustomization.yaml")
    documents: list[dict[str, Any]] = []
    for resource in kustomization["resources"]:
        documents.extend(load_yaml_all(folder / resource))
    return documents


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        command = pending + line
        pending = ""
        keyword, _, arguments = command.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions
