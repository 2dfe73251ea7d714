"""Shared integration fixtures: the embedded Kafka broker, and PostgreSQL and Redis checks.

Integration tests use the real services. A missing PostgreSQL or Redis fails the test
loudly (pytest.fail), it never skips: a green run must mean the code was exercised.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import psycopg
import pytest
import pytest_asyncio
import redis

from newsflow.broker import EmbeddedBroker
from newsflow.settings import KafkaSettings

POSTGRES_HOST = "127.0.0.1"
POSTGRES_PORT = 5432
POSTGRES_DB = "test"
POSTGRES_USERS = ("postgres", "root")
REDIS_URL = "redis://127.0.0.1:6379/0"
CONNECT_TIMEOUT_S = 3


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def kafka_broker() -> AsyncIterator[EmbeddedBroker]:
    """One embedded broker for the whole session, on a free 127.0.0.1 port."""
    async with EmbeddedBroker() as broker:
        yield broker


@pytest.fixture
def unique_name() -> str:
    """A suffix that keeps this test's topics and groups apart from every other test's."""
    return uuid.uuid4().hex[:12]


@pytest.fixture
def kafka_settings(kafka_broker: EmbeddedBroker, unique_name: str) -> KafkaSettings:
    """Settings for the session broker; the three topics are this test's own (pages.raw.<id>...)."""
    return KafkaSettings(
        bootstrap_servers=kafka_broker.bootstrap_servers,
        topic_pages=f"pages.raw.{unique_name}",
        topic_events=f"articles.events.{unique_name}",
        topic_dead_letters=f"pages.dlq.{unique_name}",
        session_timeout_ms=6000,
        heartbeat_interval_ms=500,
    )


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    """A DSN for the `test` database on 127.0.0.1:5432; fails the test when PostgreSQL is down."""
    errors: list[str] = []
    for user in POSTGRES_USERS:
        dsn = (
            f"postgresql://{user}@{POSTGRES_HOST}:{POSTGRES_PORT}/{POSTGRES_DB}"
            f"?connect_timeout={CONNECT_TIMEOUT_S}"
        )
        try:
            with psycopg.connect(dsn) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            errors.append(f"{user}: {exc}")
            continue
        return dsn
    pytest.fail(
        f"PostgreSQL at {POSTGRES_HOST}:{POSTGRES_PORT}/{POSTGRES_DB} is required: {errors}"
    )


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The URL of Redis on 127.0.0.1:6379; fails the test when Redis does not answer."""
    client = redis.Redis.from_url(
        REDIS_URL, socket_timeout=CONNECT_TIMEOUT_S, socket_connect_timeout=CONNECT_TIMEOUT_S
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {REDIS_URL} is required: {exc}")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture(scope="session")
def live_services(postgres_dsn: str, redis_url: str) -> tuple[str, str]:
    """Both stores answer: (postgres_dsn, redis_url); fails the test when either is missing."""
    return postgres_dsn, redis_url
