"""promtool accepts the scrape config and the alert rules, and the alerts' unit tests pass."""

from __future__ import annotations

import pytest
import yaml

from tests.integration.deploy.prometheus import ensure_prometheus, promtool
from tests.unit.deploy.files import DEPLOY

pytestmark = pytest.mark.integration

PROMETHEUS = DEPLOY / "prometheus"


@pytest.fixture(scope="module", autouse=True)
def _promtool() -> None:
    ensure_prometheus()


def test_scrape_config_is_valid() -> None:
    """`promtool check config` accepts prometheus.yml together with the rule file it loads."""
    done = promtool("check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 rule files found" in done.stdout


def test_alert_rules_are_valid() -> None:
    """`promtool check rules` accepts every alert, templates included."""
    done = promtool("check", "rules", str(PROMETHEUS / "alerts.yml"))
    assert done.returncode == 0, done.stdout + done.stderr
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"][0]["rules"]
    assert f"SUCCESS: {len(rules)} rules found" in done.stdout


def test_alert_unit_tests_pass() -> None:
    """`promtool test rules`: each alert fires on its scenario with the expected annotations."""
    done = promtool("test", "rules", str(PROMETHEUS / "alerts.test.yml"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout
