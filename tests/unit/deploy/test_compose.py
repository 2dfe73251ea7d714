"""deploy/compose.yaml agrees with the CLI, the settings, the scrape config and itself."""

from __future__ import annotations

from typing import Any

import pytest

from newsflow.cli import build_parser
from newsflow.settings import KafkaSettings
from services.enrich.settings import EnrichSettings
from services.ingest.settings import IngestSettings
from services.sink.settings import SinkSettings
from tests.unit.deploy.files import (
    DEPLOY,
    SERVICES,
    ApplyEnv,
    compose_value,
    load_yaml,
    service_env_names,
)

COMPOSE = load_yaml(DEPLOY / "compose.yaml")
SCRAPE = load_yaml(DEPLOY / "prometheus" / "prometheus.yml")
# Values an operator exports before `docker compose up` (the file refuses to start without).
OPERATOR = {
    "POSTGRES_PASSWORD": "pw",
    "GRAFANA_ADMIN_PASSWORD": "admin-pw",
    "NEWSFLOW_INGEST_TOKENS": "t1,t2",
}


def _service(name: str) -> dict[str, Any]:
    service: dict[str, Any] = COMPOSE["services"][name]
    return service


def _env(name: str) -> dict[str, str]:
    return {
        key: compose_value(value, OPERATOR)
        for key, value in _service(name).get("environment", {}).items()
    }


def test_each_newsflow_service_runs_its_subcommand_from_the_one_image() -> None:
    """ingest, enrich and sink share the image built from deploy/Dockerfile; command = service."""
    for name in SERVICES:
        service = _service(name)
        assert service["image"] == "newsflow:latest"
        assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
        assert service["command"] == [name]
        assert build_parser().parse_args(service["command"]).command == name


@pytest.mark.parametrize("name", SERVICES)
def test_service_environment_names_are_settings_the_service_reads(name: str) -> None:
    """Every variable given to a service is a field or alias of its settings classes."""
    unknown = set(_env(name)) - service_env_names(name)
    assert not unknown, f"{name} is given variables it never reads: {sorted(unknown)}"


def test_ingest_environment_validates_and_publishes_its_port(service_env: ApplyEnv) -> None:
    """ingest's values parse, and the published port is the port it listens on."""
    service_env(_env("ingest"))
    settings = IngestSettings()
    assert [f"{settings.http_port}:{settings.http_port}"] == _service("ingest")["ports"]
    assert len(settings.ingest_tokens) == 2


def test_enrich_runs_replicas_sharing_one_redis_dedupe_state(service_env: ApplyEnv) -> None:
    """Several enrich replicas, each deduping through the compose Redis."""
    service_env(_env("enrich"))
    settings = EnrichSettings()
    assert _service("enrich")["deploy"]["replicas"] > 1
    assert settings.dedupe_store == "redis"
    assert settings.redis_url.startswith("redis://redis:")
    assert "redis" in _service("enrich")["depends_on"]


def test_sink_writes_to_the_compose_postgres(service_env: ApplyEnv) -> None:
    """The sink's DSN names the compose PostgreSQL, its user and database, with the password."""
    service_env(_env("sink"))
    settings = SinkSettings()
    assert settings.sink == "postgres"
    assert settings.postgres_dsn is not None
    postgres = _service("postgres")["environment"]
    dsn = settings.postgres_dsn.get_secret_value()
    user, database = postgres["POSTGRES_USER"], postgres["POSTGRES_DB"]
    assert dsn == f"postgresql://{user}:{OPERATOR['POSTGRES_PASSWORD']}@postgres:5432/{database}"


@pytest.mark.parametrize("name", SERVICES)
def test_kafka_settings_are_production_grade(name: str, service_env: ApplyEnv) -> None:
    """Every service talks to the three brokers with 3 replicas, idempotence and zstd."""
    service_env(_env(name))
    kafka = KafkaSettings()
    brokers = [key for key in COMPOSE["services"] if key.startswith("kafka-") and key[-1].isdigit()]
    assert kafka.bootstrap_servers == ",".join(f"{broker}:9092" for broker in brokers)
    assert kafka.replication_factor == 3
    assert kafka.enable_idempotence is True
    assert kafka.compression_type == "zstd"
    # A publish must outlast a broker fail-over, and the group session its heartbeats.
    assert kafka.delivery_timeout_ms > kafka.request_timeout_ms
    assert kafka.heartbeat_interval_ms * 3 <= kafka.session_timeout_ms


def test_kafka_is_a_three_node_kraft_quorum_with_durable_topics() -> None:
    """Three combined broker-controllers voting together; topics keep 3 copies, 2 in sync."""
    brokers = {
        k: v for k, v in COMPOSE["services"].items() if k.startswith("kafka-") and k[-1].isdigit()
    }
    assert len(brokers) == 3
    ids = set()
    for name, broker in brokers.items():
        env = broker["environment"]
        assert broker["image"].startswith("apache/kafka:")
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://{name}:9092"
        voters = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")
        assert f"{env['KAFKA_NODE_ID']}@{name}:9093" in voters
        assert len(voters) == 3
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == 3
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == 2
        assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == 3
        ids.add(env["KAFKA_NODE_ID"])
    assert len(ids) == 3
    assert len({b["environment"]["CLUSTER_ID"] for b in brokers.values()}) == 1


def test_topic_job_creates_the_topics_the_services_use() -> None:
    """kafka-topics creates pages.raw, articles.events and pages.dlq as the settings name them."""
    script = _service("kafka-topics")["command"][0]
    defaults = KafkaSettings.model_fields
    for field in ("topic_pages", "topic_events", "topic_dead_letters"):
        assert str(defaults[field].default) in script
    assert "--replication-factor 3" in script
    assert "min.insync.replicas=2" in script
    for name in SERVICES:
        assert _service(name)["depends_on"]["kafka-topics"] == {
            "condition": "service_completed_successfully"
        }


def test_prometheus_scrapes_each_service_where_it_serves_metrics(service_env: ApplyEnv) -> None:
    """The scrape targets are the compose services on the ports their settings give them."""
    jobs = {job["job_name"]: job for job in SCRAPE["scrape_configs"]}
    service_env(_env("ingest"))
    assert jobs["newsflow-ingest"]["static_configs"][0]["targets"] == [
        f"ingest:{IngestSettings().http_port}"
    ]
    for name, settings_class in (("enrich", EnrichSettings), ("sink", SinkSettings)):
        service_env(_env(name))
        (discovery,) = jobs[f"newsflow-{name}"]["dns_sd_configs"]
        assert discovery["names"] == [name]
        assert discovery["port"] == settings_class().metrics_port
    for job in jobs.values():
        assert job.get("metrics_path", "/metrics") == "/metrics"


def test_monitoring_mounts_the_files_of_this_folder() -> None:
    """Prometheus and Grafana mount existing deploy files at the paths their configs name."""
    for service in ("prometheus", "grafana"):
        for volume in _service(service)["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (DEPLOY / source).exists(), volume
    provider = load_yaml(DEPLOY / "grafana/provisioning/dashboards/newsflow.yaml")
    dashboards_path = provider["providers"][0]["options"]["path"]
    assert f"./grafana/dashboards:{dashboards_path}:ro" in _service("grafana")["volumes"]


def test_every_named_volume_is_declared() -> None:
    """A named volume a service mounts appears under the top-level volumes."""
    for service in COMPOSE["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith(("./", "/")):
                assert source in COMPOSE["volumes"], volume
