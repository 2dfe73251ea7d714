"""The newsflow contract shared by every service and downstream consumer."""

from schemas.models import (
    SCHEMA_VERSION,
    ArticleEvent,
    ContentType,
    DeadLetter,
    DeadLetterReason,
    DuplicateKind,
    PublishedAtSource,
    RawPage,
    Stage,
    article_event_json,
    derive_page_id,
)

__all__ = [
    "SCHEMA_VERSION",
    "ArticleEvent",
    "ContentType",
    "DeadLetter",
    "DeadLetterReason",
    "DuplicateKind",
    "PublishedAtSource",
    "RawPage",
    "Stage",
    "article_event_json",
    "derive_page_id",
]
