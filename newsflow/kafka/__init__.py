"""newsflow's one Kafka adapter: publish records, consume batches, create topics.

Services use these names only; aiokafka is imported in `publish.py` (producer),
`consume.py` and `read.py` (consumers), `admin.py` and `lag.py` (topics, group lag) and
nowhere else.
"""

from newsflow.kafka.admin import ensure_topics
from newsflow.kafka.consume import BatchConsumer, Completion, Handler, Message, PartitionKey
from newsflow.kafka.errors import (
    KafkaAdapterError,
    PublishRejected,
    PublishUnavailable,
    TopicSetupFailed,
)
from newsflow.kafka.publish import InMemoryPublisher, KafkaPublisher, Publisher, Record
from newsflow.kafka.read import TopicReader

__all__ = [
    "BatchConsumer",
    "Completion",
    "Handler",
    "InMemoryPublisher",
    "KafkaAdapterError",
    "KafkaPublisher",
    "Message",
    "PartitionKey",
    "PublishRejected",
    "PublishUnavailable",
    "Publisher",
    "Record",
    "TopicReader",
    "TopicSetupFailed",
    "ensure_topics",
]
