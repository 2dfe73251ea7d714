"""The article a page describes in its JSON-LD (schema.org) blocks: headline, date, publisher.

Owns `read_linked_data`. Pages nest their article anywhere: at the top, in a list, in an
`@graph`, under `mainEntity`; the publisher may be a name, an object or an `@id` reference
to another node. Broken JSON, which is common, is skipped block by block.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from lxml.html import HtmlElement

# A page's JSON-LD is a few kilobytes; a walk past this many nodes is not article metadata.
_MAX_NODES: Final = 2000
_ARTICLE_SUFFIXES: Final = ("article", "posting")
_EXTRA_ARTICLE_TYPES: Final = frozenset({"report", "webpage"})


@dataclass(frozen=True, slots=True)
class LinkedData:
    """What the JSON-LD says about the page's article; None where it says nothing."""

    headline: str | None = None
    date_published: str | None = None
    publisher: str | None = None


def _nodes(data: object) -> Iterator[dict[str, object]]:
    """Every JSON object in a JSON-LD document, depth first, bounded."""
    stack, seen = [data], 0
    while stack and seen < _MAX_NODES:
        item = stack.pop()
        seen += 1
        if isinstance(item, dict):
            yield item
            stack.extend(reversed([v for v in item.values() if isinstance(v, dict | list)]))
        elif isinstance(item, list):
            stack.extend(reversed(item))


def _types(node: dict[str, object]) -> list[str]:
    kind = node.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return [k.rsplit("/", 1)[-1].casefold() for k in kinds if isinstance(k, str)]


def _is_article(node: dict[str, object]) -> bool:
    return any(k.endswith(_ARTICLE_SUFFIXES) or k in _EXTRA_ARTICLE_TYPES for k in _types(node))


def _text(value: object) -> str | None:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), None)
    if isinstance(value, str):
        return " ".join(value.split()) or None
    return None


def _publisher_name(value: object, by_id: dict[str, dict[str, object]]) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, dict):
        node_id = value.get("@id")
        if "name" not in value and isinstance(node_id, str) and node_id in by_id:
            value = by_id[node_id]
        return _text(value.get("name"))
    return None


def _documents(tree: HtmlElement) -> Iterator[object]:
    for script in tree.xpath("//script[@type]"):
        kind = (script.get("type") or "").strip().lower()
        if kind != "application/ld+json" or not script.text:
            continue
        try:
            yield json.loads(script.text, strict=False)
        except (ValueError, RecursionError):
            continue


def read_linked_data(tree: HtmlElement) -> LinkedData:
    """Headline, datePublished and publisher name of the page's article in its JSON-LD."""
    nodes = [node for document in _documents(tree) for node in _nodes(document)]
    # A bare {"@id": ...} is a reference, not the node it names.
    by_id = {
        node_id: node
        for node in nodes
        if isinstance(node_id := node.get("@id"), str) and len(node) > 1
    }
    articles = [node for node in nodes if _is_article(node)]
    # Real article types before WebPage, whose "name" is the decorated <title>.
    articles.sort(key=lambda node: "webpage" in _types(node))
    headline = date = publisher = None
    for node in articles:
        headline = headline or _text(node.get("headline"))
        date = date or _text(node.get("datePublished"))
        publisher = publisher or _publisher_name(node.get("publisher"), by_id)
    return LinkedData(headline=headline, date_published=date, publisher=publisher)
