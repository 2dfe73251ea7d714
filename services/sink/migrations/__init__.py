"""Schema migrations of the PostgreSQL sink: the `NNNN_name.sql` files beside this module.

Each file runs once per schema, in version order, with `search_path` set to that schema, so
the SQL names its tables unqualified. `apply_migrations` runs every pending file in one
transaction that first takes a transaction-level advisory lock keyed on the schema: sinks
starting together queue on the lock, and the later ones find the versions already recorded in
`newsflow_schema_migrations`. A failed migration rolls back with everything else pending.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files

from psycopg import AsyncConnection, sql
from psycopg.rows import TupleRow

_FILE = re.compile(r"^(\d{4})_(\w+)\.sql$")
_LOCK_NAMESPACE = "newsflow_sink_migrations:"


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema change."""

    version: int
    name: str
    sql: str


def load_migrations() -> tuple[Migration, ...]:
    """The packaged migrations in version order; versions must run 1, 2, 3, ... with no gap."""
    found = []
    for entry in files(__name__).iterdir():
        if match := _FILE.match(entry.name):
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migration versions must be 1..n without gaps, found {versions}")
    return tuple(found)


async def apply_migrations(conn: AsyncConnection[TupleRow], schema: str) -> list[int]:
    """Create `schema` if missing and apply its pending migrations; returns the versions applied.

    `conn` must be in autocommit mode (the function opens its own transaction).
    """
    migrations = load_migrations()
    applied_now: list[int] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [_LOCK_NAMESPACE + schema])
        exists = await conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema])
        # Only create when missing: CREATE SCHEMA IF NOT EXISTS still needs the CREATE right.
        if await exists.fetchone() is None:
            await conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        await conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS newsflow_schema_migrations ("
            " version integer PRIMARY KEY,"
            " name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        rows = await (
            await conn.execute("SELECT version FROM newsflow_schema_migrations")
        ).fetchall()
        done = {version for (version,) in rows}
        for migration in migrations:
            if migration.version in done:
                continue
            # Passed as bytes: SQL read from our own files is not a literal str to the type checker.
            await conn.execute(migration.sql.encode())
            await conn.execute(
                "INSERT INTO newsflow_schema_migrations (version, name) VALUES (%s, %s)",
                [migration.version, migration.name],
            )
            applied_now.append(migration.version)
    return applied_now
