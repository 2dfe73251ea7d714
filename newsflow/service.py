"""The consume loop every worker service runs: join the group, handle batches, drain on signals.

enrich and sink differ in their handler and outputs only; this is the part they share.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import Gauge

from newsflow.health import Health, drain_on_signals
from newsflow.kafka import BatchConsumer, Handler, Message
from newsflow.kafka.merge import OrderKey
from newsflow.metrics import watching_lag
from newsflow.settings import KafkaSettings


async def consume_until_stopped(
    kafka: KafkaSettings,
    topic: str,
    group_id: str,
    handler: Handler,
    *,
    client_id: str,
    health: Health,
    lag_gauge: Gauge,
    order: Callable[[Message], OrderKey] | None = None,
) -> None:
    """Hand batches of `topic` to `handler` until SIGTERM/SIGINT; then finish, commit, leave.

    `health` turns ready on the first join and not ready on the signal; the lag gauge is
    refreshed while the loop runs. `order`: batches follow it across the member's
    partitions (see `BatchConsumer`).
    """
    consumer = BatchConsumer(
        kafka,
        [topic],
        group_id,
        handler,
        client_id=client_id,
        on_assigned=lambda _: health.started("consumer"),
        order=order,
    )
    drain_on_signals(health, consumer.request_stop)
    async with watching_lag(consumer.lag, lag_gauge):
        await consumer.run()
