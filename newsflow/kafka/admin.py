"""Topic administration and broker probing: the only place newsflow opens an admin client.

`ensure_topics` is idempotent so every service may call it at start-up; `broker_answers`
is the liveness probe the embedded broker waits on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from newsflow.kafka.errors import TopicSetupFailed
from newsflow.settings import KafkaSettings

_ALREADY_EXISTS = TopicAlreadyExistsError.errno


async def ensure_topics(
    settings: KafkaSettings,
    names: Iterable[str],
    partitions: int | None = None,
    replication_factor: int | None = None,
) -> None:
    """Create the missing topics among `names`; topics that already exist are left as they are."""
    wanted = list(dict.fromkeys(names))
    admin = AIOKafkaAdminClient(client_id="newsflow-admin", **settings.client_kwargs())
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        missing = [name for name in wanted if name not in existing]
        if not missing:
            return
        response = await admin.create_topics(
            [
                NewTopic(
                    name,
                    num_partitions=partitions or settings.partitions,
                    replication_factor=replication_factor or settings.replication_factor,
                )
                for name in missing
            ]
        )
        for topic_error in response.topic_errors:
            name, code = topic_error[0], topic_error[1]
            # Another service may have created it between list and create: that is success.
            if code not in (0, _ALREADY_EXISTS):
                raise TopicSetupFailed(f"cannot create topic {name!r}: {for_code(code).__name__}")
    finally:
        await admin.close()


async def broker_answers(bootstrap_servers: str, within_s: float = 1.0) -> bool:
    """True when a broker at `bootstrap_servers` answers a metadata request within `within_s`."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers,
        client_id="newsflow-probe",
        request_timeout_ms=max(int(within_s * 1000), 100),
    )
    try:
        async with asyncio.timeout(within_s):
            await admin.start()
            await admin.list_topics()
    except (KafkaError, OSError, TimeoutError):
        return False
    finally:
        await admin.close()
    return True
