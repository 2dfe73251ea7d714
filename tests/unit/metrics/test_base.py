"""Shared metrics helpers: build info, the lag gauge, and the metrics ports `newsflow run` gives."""

from __future__ import annotations

import asyncio
import importlib.metadata

import pytest
from prometheus_client import CollectorRegistry

from newsflow.kafka import PartitionKey
from newsflow.metrics import lag_gauge, register_base_metrics, report_lag, watching_lag
from newsflow.run import RunOptions


def _partitions(registry: CollectorRegistry, name: str) -> dict[str, float]:
    return {
        sample.labels["partition"]: sample.value
        for metric in registry.collect()
        for sample in metric.samples
        if sample.name == name
    }


def test_build_info_names_the_service_and_installed_version() -> None:
    """newsflow_build_info is 1 for the service and the installed package version."""
    registry = CollectorRegistry()
    register_base_metrics(registry, "sink")
    version = importlib.metadata.version("newsflow")
    labels = {"service": "sink", "version": version}
    assert registry.get_sample_value("newsflow_build_info", labels) == 1
    names = {metric.name for metric in registry.collect()}
    assert {"process_cpu_seconds", "process_open_fds", "python_info"} <= names


def test_lag_gauge_shows_assigned_partitions_only() -> None:
    """Each call shows the partitions given and drops those no longer assigned."""
    registry = CollectorRegistry()
    gauge = lag_gauge(registry, "enrich")
    name = "newsflow_enrich_consumer_lag_records"
    shown = report_lag(gauge, {PartitionKey("t", 0): 5, PartitionKey("t", 4): 0}, set())
    assert _partitions(registry, name) == {"0": 5.0, "4": 0.0}
    shown = report_lag(gauge, {PartitionKey("t", 4): 12}, shown)
    assert _partitions(registry, name) == {"4": 12.0}
    assert shown == {"4"}


async def test_watching_lag_copies_the_consumer_lag_until_left() -> None:
    """While inside, the gauge follows the lag function; after, it is no longer updated."""
    registry = CollectorRegistry()
    gauge = lag_gauge(registry, "sink")
    lags = {PartitionKey("t", 2): 7}
    async with watching_lag(lambda: lags, gauge, interval=0.01):
        await asyncio.sleep(0.05)
        assert _partitions(registry, "newsflow_sink_consumer_lag_records") == {"2": 7.0}
        lags = {PartitionKey("t", 2): 1}
        await asyncio.sleep(0.05)
        assert _partitions(registry, "newsflow_sink_consumer_lag_records") == {"2": 1.0}
    lags = {PartitionKey("t", 2): 99}
    await asyncio.sleep(0.05)
    assert _partitions(registry, "newsflow_sink_consumer_lag_records") == {"2": 1.0}


@pytest.mark.parametrize(
    ("service", "port"),
    [("enrich-0", 9101), ("sink", 9102), ("enrich-1", 9103), ("enrich-2", 9104)],
)
def test_run_gives_each_worker_its_own_metrics_port(service: str, port: int) -> None:
    """enrich-0 takes the base port, the sink the next, further enrich workers the ones after."""
    assert RunOptions().metrics_port_of(service) == port
    assert RunOptions(metrics_port=0).metrics_port_of(service) == 0
