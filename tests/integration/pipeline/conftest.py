"""Per-test places for pipeline state: a PostgreSQL schema and a Redis key prefix, removed after.

`postgres_dsn` and `redis_url` (tests/integration/conftest.py) fail the test when the
service is down; they never skip.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import psycopg
import pytest
from psycopg import sql
from redis.asyncio import Redis


@pytest.fixture
async def pg_schema(postgres_dsn: str) -> AsyncIterator[str]:
    """A schema name of this test's own (the sink creates it); dropped with its tables after."""
    name = f"pipeline_test_{uuid.uuid4().hex[:12]}"
    yield name
    async with await psycopg.AsyncConnection.connect(postgres_dsn, autocommit=True) as conn:
        await conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture
async def redis_prefix(redis_url: str) -> AsyncIterator[str]:
    """A dedupe key prefix of this test's own; every key under it is deleted after."""
    prefix = f"newsflow-test:{uuid.uuid4().hex[:12]}"
    yield prefix
    client = Redis.from_url(redis_url)
    try:
        # The store wraps the prefix in braces (a cluster hash tag) before its own suffixes.
        keys = [key async for key in client.scan_iter(match=f"{{{prefix}}}*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
