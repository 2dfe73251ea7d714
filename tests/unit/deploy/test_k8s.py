"""deploy/k8s agrees with the CLI, the settings, the ingest routes and itself."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute
from prometheus_client import CollectorRegistry

from newsflow.cli import build_parser
from newsflow.kafka import InMemoryPublisher
from newsflow.settings import KafkaSettings
from services.enrich.settings import EnrichSettings
from services.ingest.app import create_app
from services.ingest.settings import IngestSettings
from services.sink.settings import SinkSettings
from tests.unit.deploy.files import SERVICES, ApplyEnv, k8s_documents, service_env_names

DOCUMENTS = k8s_documents()
WORKER_SETTINGS = {"enrich": EnrichSettings, "sink": SinkSettings}


def _of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in DOCUMENTS if doc["kind"] == kind}


def _deployment(service: str) -> dict[str, Any]:
    return _of_kind("Deployment")[f"newsflow-{service}"]


def _container(service: str) -> dict[str, Any]:
    (container,) = _deployment(service)["spec"]["template"]["spec"]["containers"]
    return dict(container)


def _secret_values() -> dict[str, str]:
    return dict(_of_kind("Secret")["newsflow"]["stringData"])


def _env(service: str) -> dict[str, str]:
    """The container's environment as the kubelet builds it: envFrom ConfigMaps, then env."""
    maps = _of_kind("ConfigMap")
    container = _container(service)
    values: dict[str, str] = {}
    for source in container.get("envFrom", []):
        values.update(maps[source["configMapRef"]["name"]]["data"])
    for item in container.get("env", []):
        if "value" in item:
            values[item["name"]] = item["value"]
            continue
        ref = item["valueFrom"]
        if "secretKeyRef" in ref:
            values[item["name"]] = _secret_values()[ref["secretKeyRef"]["key"]]
        else:
            key = ref["configMapKeyRef"]
            values[item["name"]] = maps[key["name"]]["data"][key["key"]]
    return values


def _port(container: dict[str, Any], name: str) -> int:
    return int(next(p["containerPort"] for p in container["ports"] if p["name"] == name))


def test_every_service_has_a_deployment_running_its_subcommand() -> None:
    """Each Deployment runs the newsflow image with args = [its service] (ENTRYPOINT kept)."""
    assert set(_of_kind("Deployment")) == {f"newsflow-{s}" for s in SERVICES}
    for service in SERVICES:
        container = _container(service)
        assert container["image"] == "newsflow"
        assert "command" not in container  # keeps the image's ENTRYPOINT ["newsflow"]
        assert container["args"] == [service]
        assert build_parser().parse_args(container["args"]).command == service


@pytest.mark.parametrize("service", SERVICES)
def test_container_environment_names_are_settings_the_service_reads(service: str) -> None:
    """Every ConfigMap key and env entry a service gets is one of its settings' names."""
    unknown = set(_env(service)) - service_env_names(service)
    assert not unknown, f"{service} is given variables it never reads: {sorted(unknown)}"


@pytest.mark.parametrize("service", SERVICES)
def test_production_kafka_settings_validate(service: str, service_env: ApplyEnv) -> None:
    """The shared ConfigMap parses into 3 replicas, idempotence and zstd for every service."""
    service_env(_env(service))
    kafka = KafkaSettings()
    assert kafka.bootstrap_servers is not None
    assert len(kafka.bootstrap_servers.split(",")) == 3
    assert (kafka.replication_factor, kafka.enable_idempotence) == (3, True)
    assert kafka.compression_type == "zstd"


def test_ingest_probes_hit_its_real_routes_on_its_port(service_env: ApplyEnv) -> None:
    """Liveness asks /healthz and readiness /readyz of the app, on the port ingest listens on."""
    service_env(_env("ingest"))
    settings = IngestSettings()
    container = _container("ingest")
    assert _port(container, "http") == settings.http_port
    app = create_app(settings, InMemoryPublisher(), CollectorRegistry())
    get_routes = {
        r.path for r in app.routes if isinstance(r, APIRoute) and "GET" in (r.methods or ())
    }
    probes = {
        kind: container[kind]["httpGet"]
        for kind in ("startupProbe", "livenessProbe", "readinessProbe")
    }
    assert probes["livenessProbe"]["path"] == "/healthz"
    assert probes["readinessProbe"]["path"] == "/readyz"
    for probe in probes.values():
        assert probe["path"] in get_routes
        assert probe["port"] == "http"
    # The readiness probe waits for the broker check inside /readyz.
    assert container["readinessProbe"]["timeoutSeconds"] > settings.readiness_timeout_seconds


@pytest.mark.parametrize("service", ["enrich", "sink"])
def test_worker_probes_and_scrape_port_are_its_metrics_port(
    service: str, service_env: ApplyEnv
) -> None:
    """A worker is probed and scraped on the metrics port its settings read from the ConfigMap."""
    service_env(_env(service))
    settings = WORKER_SETTINGS[service]()
    container = _container(service)
    port = _port(container, "metrics")
    assert port == settings.metrics_port
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
    annotations = _deployment(service)["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(port)
    assert annotations["prometheus.io/path"] == "/metrics"


def test_ingest_scrape_annotation_names_its_http_port() -> None:
    """Prometheus scrapes ingest's /metrics on the HTTP port."""
    annotations = _deployment("ingest")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(_port(_container("ingest"), "http"))


@pytest.mark.parametrize("service", SERVICES)
def test_containers_are_bounded_and_unprivileged(service: str) -> None:
    """Requests and limits are set; the pod runs as the image's non-root uid, read-only."""
    container = _container(service)
    resources = container["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"])
    assert {"cpu", "memory"} <= set(resources["limits"])
    pod = _deployment(service)["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_ingest_stops_within_its_grace_period(service_env: ApplyEnv) -> None:
    """The pod's grace period outlasts the preStop pause plus ingest's own drain."""
    service_env(_env("ingest"))
    pod = _deployment("ingest")["spec"]["template"]["spec"]
    pause = int(_container("ingest")["lifecycle"]["preStop"]["exec"]["command"][1])
    assert pod["terminationGracePeriodSeconds"] > pause + IngestSettings().shutdown_grace_seconds


def test_secret_references_exist_and_secrets_stay_out_of_config_maps() -> None:
    """Every secretKeyRef names a key of the Secret; no ConfigMap carries a DSN or token."""
    keys = set(_secret_values())
    for service in SERVICES:
        for item in _container(service).get("env", []):
            ref = item.get("valueFrom", {}).get("secretKeyRef")
            if ref is not None:
                assert ref["name"] == "newsflow"
                assert ref["key"] in keys
    for config in _of_kind("ConfigMap").values():
        assert not {"NEWSFLOW_POSTGRES_DSN", "NEWSFLOW_INGEST_TOKENS"} & set(config["data"])


def test_selectors_match_the_pods_they_mean() -> None:
    """Service and PodDisruptionBudgets select their Deployment's pod labels."""
    service = _of_kind("Service")["newsflow-ingest"]
    ingest = _deployment("ingest")
    labels = ingest["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    budgets = _of_kind("PodDisruptionBudget")
    assert set(budgets) == {f"newsflow-{s}" for s in SERVICES}
    for name, budget in budgets.items():
        pod_labels = _of_kind("Deployment")[name]["spec"]["template"]["metadata"]["labels"]
        assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
        assert (
            _of_kind("Deployment")[name]["spec"]["selector"]["matchLabels"].items()
            <= pod_labels.items()
        )


def test_enrich_autoscaler_follows_the_groups_lag_up_to_the_partition_count(
    service_env: ApplyEnv,
) -> None:
    """KEDA's kafka trigger reads the enrich group's lag on pages.raw, capped at the partitions."""
    service_env(_env("enrich"))
    kafka, enrich = KafkaSettings(), EnrichSettings()
    (scaled,) = _of_kind("ScaledObject").values()
    spec = scaled["spec"]
    assert spec["scaleTargetRef"]["name"] == "newsflow-enrich"
    (trigger,) = spec["triggers"]
    assert trigger["type"] == "kafka"
    meta = trigger["metadata"]
    env = _env("enrich")
    # The *FromEnv parameters name variables of the target container, resolved by KEDA.
    assert env[meta["bootstrapServersFromEnv"]] == kafka.bootstrap_servers
    assert env[meta["consumerGroupFromEnv"]] == enrich.consumer_group
    assert meta["topic"] == kafka.topic_pages
    assert meta["offsetResetPolicy"] == "earliest"  # what BatchConsumer does for a new group
    assert spec["maxReplicaCount"] == kafka.partitions
    assert 1 <= spec["minReplicaCount"] <= _deployment("enrich")["spec"]["replicas"]
    assert int(meta["lagThreshold"]) > 0


def test_topic_job_creates_the_topics_the_services_use() -> None:
    """The Job creates pages.raw, articles.events and pages.dlq with 3 replicas, 2 in sync."""
    (job,) = _of_kind("Job").values()
    (container,) = job["spec"]["template"]["spec"]["containers"]
    script = container["args"][0]
    defaults = KafkaSettings.model_fields
    for field in ("topic_pages", "topic_events", "topic_dead_letters"):
        assert str(defaults[field].default) in script
    assert "--replication-factor 3" in script
    assert "min.insync.replicas=2" in script
    partitions = _of_kind("ConfigMap")["newsflow-kafka"]["data"]["NEWSFLOW_KAFKA_PARTITIONS"]
    assert f"--partitions {partitions}" in script
