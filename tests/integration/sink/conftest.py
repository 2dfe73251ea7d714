"""Fixtures for the sink integration tests: a real PostgreSQL schema per test, dropped after.

`postgres_dsn` (tests/integration/conftest.py) fails the test when PostgreSQL is down.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import TupleRow


@pytest.fixture
async def schema_name(postgres_dsn: str) -> AsyncIterator[str]:
    """A unique schema name, not created; whatever a test creates under it is dropped."""
    name = f"sink_test_{uuid.uuid4().hex[:12]}"
    yield name
    async with await psycopg.AsyncConnection.connect(postgres_dsn, autocommit=True) as conn:
        await conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture
async def pg_schema(postgres_dsn: str, schema_name: str) -> str:
    """A unique, empty schema created for the test."""
    async with await psycopg.AsyncConnection.connect(postgres_dsn, autocommit=True) as conn:
        await conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema_name)))
    return schema_name


@pytest.fixture
async def reader(postgres_dsn: str) -> AsyncIterator[psycopg.AsyncConnection[TupleRow]]:
    """A connection to read back with, in a non-UTC session time zone on purpose."""
    async with await psycopg.AsyncConnection.connect(postgres_dsn, autocommit=True) as conn:
        await conn.execute("SET TIME ZONE 'Asia/Kolkata'")
        yield conn
