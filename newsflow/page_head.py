"""What a raw page's bytes say about it before it is decoded: canonical URL and charset.

`newsflow push` reads both before sending a file or a WARC record; ingest reads the charset
of a raw HTML body whose Content-Type declares none. Pure functions over bytes. The HTML
head is scanned with lxml's pull parser and the scan stops at `<body>`, so a large page
costs only its head.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from email.message import Message
from typing import Final
from urllib.parse import urlsplit

from lxml import etree

_CHUNK: Final = 16 * 1024
_FALLBACK_CHARSET: Final = "windows-1252"
_BOMS: Final = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_META_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class HeadInfo:
    """What an HTML head says about its page."""

    canonical_url: str | None
    """`<link rel=canonical>` or else `og:url`, when it is an absolute http(s) URL."""
    charset: str | None
    """The charset a `<meta>` declares, if any."""


def scan_head(data: bytes) -> HeadInfo:
    """Read the canonical URL and declared charset from an HTML document's head."""
    parser = etree.HTMLPullParser(events=("start",), recover=True)
    canonical: str | None = None
    og_url: str | None = None
    charset: str | None = None
    for start in range(0, max(len(data), 1), _CHUNK):
        parser.feed(data[start : start + _CHUNK])
        for _, element in parser.read_events():
            tag = element.tag if isinstance(element.tag, str) else ""
            if tag == "body":
                return HeadInfo(canonical or og_url, charset)
            if tag == "link" and canonical is None:
                rels = (element.get("rel") or "").lower().split()
                if "canonical" in rels:
                    canonical = _absolute_http(element.get("href"))
            elif tag == "meta":
                prop = (element.get("property") or element.get("name") or "").strip().lower()
                if prop == "og:url" and og_url is None:
                    og_url = _absolute_http(element.get("content"))
                charset = charset or _meta_charset(element)
    return HeadInfo(canonical or og_url, charset)


def is_utf8(data: bytes) -> bool:
    """Whether the bytes are valid UTF-8: then they are UTF-8, whatever an old <meta> says
    (a page its scraper re-encoded often keeps it; legacy text is almost never valid UTF-8)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def html_charset(data: bytes) -> str | None:
    """The charset an HTML document declares in its own bytes: a byte order mark, else a
    `<meta>` naming a known encoding; None when it declares none.

    What a browser honours when the HTTP header names no charset. A `<meta>` naming UTF-16
    means UTF-8, as in the HTML standard: bytes a parser could read the tag in are not UTF-16.
    """
    bom = _bom_charset(data)
    if bom is not None:
        return bom
    label = _known_label(scan_head(data).charset)
    if label is None:
        return None
    return "utf-8" if codecs.lookup(label).name.startswith("utf-16") else label


def url_host(url: str | None) -> str | None:
    """The lower-case host of an absolute URL, or None."""
    if not url:
        return None
    try:
        return urlsplit(url).hostname or None
    except ValueError:
        return None


def choose_charset(data: bytes, declared: str | None) -> str:
    """The charset to send a body under: its BOM, else a known declared one, else UTF-8 if valid.

    An undeclared body that is not UTF-8 is sent as windows-1252, the usual fallback of
    browsers for legacy pages.
    """
    return (
        _bom_charset(data)
        or _known_label(declared)
        or ("utf-8" if is_utf8(data) else _FALLBACK_CHARSET)
    )


def _bom_charset(data: bytes) -> str | None:
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    return None


def _known_label(declared: str | None) -> str | None:
    # A declared label Python knows, as declared (an IANA name, not Python's alias for it).
    if not declared:
        return None
    try:
        codecs.lookup(declared)
    except LookupError:
        return None
    return declared.strip().lower()


def http_charset(content_type: str | None) -> str | None:
    """The charset parameter of an HTTP Content-Type header, if any."""
    if not content_type:
        return None
    message = Message()
    message["content-type"] = content_type
    return message.get_content_charset()


def media_essence(content_type: str | None) -> str:
    """The lower-case `type/subtype` of a Content-Type header ("" if none)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _absolute_http(value: str | None) -> str | None:
    url = (value or "").strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.hostname:
        return url
    return None


def _meta_charset(element: etree._Element) -> str | None:
    declared = element.get("charset")
    if declared:
        return str(declared).strip() or None
    if (element.get("http-equiv") or "").strip().lower() == "content-type":
        match = _META_CHARSET.search(element.get("content") or "")
        if match:
            return match.group(1)
    return None
