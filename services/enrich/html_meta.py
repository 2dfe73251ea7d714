"""What an HTML news page says about its article: headline, publisher, time, language, address.

Owns `read_page_meta`, which reads a parsed page (lxml tree) once: meta tags, JSON-LD
(`html_jsonld`), `<h1>`, `<title>`, `<time datetime>`, `<html lang>` and the canonical link.
The headline loses its site-name decoration (" | Site", " - Site", "Site: "); the
publication time comes from the most trusted source that parses, else from a date in the
URL, and is always timezone-aware UTC. Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement

from schemas import PublishedAtSource
from services.enrich.html_jsonld import LinkedData, read_linked_data
from services.enrich.html_time import parse_machine_time
from services.enrich.language import to_iso639_1
from services.enrich.text import one_line
from services.enrich.timestamps import date_from_url

# Meta keys (property, name or itemprop, lowercased) that carry the publication time, most
# trusted first. Modification times are deliberately absent.
_META_DATE_KEYS: Final = (
    "article:published_time",
    "og:article:published_time",
    "og:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "date",
    "dc.date",
    "dc.date.issued",
    "dcterms.date",
    "dcterms.issued",
    "dcterms.created",
    "sailthru.date",
    "parsely-pub-date",
)
_META_LANGUAGE_KEYS: Final = ("og:locale", "content-language", "language", "dc.language")

# <time datetime> elements, most specific first: marked as the publication time, then inside
# the article or main content, then anywhere outside page chrome (menus, sidebars, footers,
# where "today's date" and other stories' times live).
_CHROME: Final = "ancestor::aside or ancestor::nav or ancestor::footer"
_TIME_XPATHS: Final = (
    "//time[@datetime][@itemprop='datePublished' or @pubdate]/@datetime",
    # An <article>'s own <header> holds its dateline; a <header> outside it is the page's.
    "(//article | //main | //*[@itemprop='articleBody'])"
    f"//time[@datetime][not({_CHROME} or ancestor::header[not(ancestor::article)])]/@datetime",
    f"(//article | //main)//time[@datetime][not({_CHROME})]/@datetime",
    f"//body//time[@datetime][not({_CHROME} or ancestor::header)]/@datetime",
)
# Separators between a headline and the site name; "-" and friends need spaces around them
# so hyphenated words survive, "|" and "_" (common on CJK sites) need none.
_SUFFIX_SEP: Final = r"(?:\s+[-–—|·•/»«:~]+\s+|\s*[|｜_]\s*)"
_PREFIX_SEP: Final = r"(?:\s*[:：|｜]\s*|\s+[-–—·•»]+\s+)"
_SPLIT_SEP: Final = re.compile(r"\s+[|–—-]\s+|\s*[|｜]\s*")
_NOT_ALNUM: Final = re.compile(r"[\W_]+")
_MAX_TITLE_CHARS: Final = 400


@dataclass(frozen=True, slots=True)
class PageMeta:
    """What the page states about its article."""

    title: str | None
    """Headline without the site-name decoration."""
    headlines: tuple[str, ...]
    """Every headline form found (og:title, JSON-LD, <h1>, <title>), to drop from the body."""
    source: str | None
    """Publisher the page names: og:site_name or the JSON-LD publisher."""
    published_at: datetime | None
    """Publication time in UTC."""
    published_text: str | None
    """The attribute value or URL the time was read from."""
    published_source: PublishedAtSource | None
    language: str | None
    """ISO 639-1 code the page declares."""
    url: str | None
    """Canonical address, else the address the page was fetched from."""


def _clean(text: str | None) -> str:
    # One line, as the article's text is normalised: soft hyphens in "Bundes&shy;regierung",
    # zero-width spaces and control characters gone, every space single.
    return one_line(text) if text else ""


def _meta_values(tree: HtmlElement) -> dict[str, str]:
    """First content of each meta key (property, name, itemprop or http-equiv, lowercased)."""
    values: dict[str, str] = {}
    for element in tree.iter("meta"):
        key = next(
            (
                element.get(a)
                for a in ("property", "name", "itemprop", "http-equiv")
                if element.get(a)
            ),
            None,
        )
        content = _clean(element.get("content"))
        if key and content:
            values.setdefault(key.strip().lower(), content)
    return values


def _first_text(tree: HtmlElement, xpath: str) -> str:
    for element in tree.xpath(xpath):
        text = _clean(element.text_content())
        if text and len(text) <= _MAX_TITLE_CHARS:
            return text
    return ""


def _h1(tree: HtmlElement) -> str:
    # Several <h1>s: the site logo or a section name may be one; the article's is inside it.
    if len(tree.xpath("//h1")) > 1 and (inside := _first_text(tree, "(//article | //main)//h1")):
        return inside
    return _first_text(tree, "//h1")


def _is_logo(h1: str, title: str, tree: HtmlElement) -> bool:
    """True when the <h1> is the site's name set as a logo: the <title> is that name and a
    headline that another heading (<h2>, <h3>) of the page holds ("Island Herald | Ferry
    strike ends", <h1>Island Herald</h1>, <h2>Ferry strike ends</h2>)."""
    parts = [part.strip() for part in _SPLIT_SEP.split(title)]
    if len(parts) != 2 or h1.casefold() not in {part.casefold() for part in parts}:
        return False
    headline = (parts[1] if parts[0].casefold() == h1.casefold() else parts[0]).casefold()
    return any(
        _clean(heading.text_content()).casefold() == headline
        for heading in tree.xpath("//h2 | //h3")
    )


def _squash(text: str) -> str:
    squashed = _NOT_ALNUM.sub("", text.casefold())
    return squashed.removeprefix("the")


def _is_host_name(segment: str, host: str) -> bool:
    """True when a title segment names the URL's site ("The Harbour Times", harbourtimes.co.uk)."""
    squashed = _squash(segment)
    return len(squashed) >= 4 and bool(host) and squashed in _squash(host)


def _strip_site(title: str, names: list[str], host: str) -> str:
    for name in names:
        escaped = re.escape(name)
        suffix = re.match(rf"^(.+?){_SUFFIX_SEP}{escaped}\s*$", title, re.IGNORECASE)
        if suffix:
            return suffix[1].strip()
        prefix = re.match(rf"^\s*{escaped}{_PREFIX_SEP}(.+)$", title, re.IGNORECASE)
        if prefix:
            return prefix[1].strip()
    parts = _SPLIT_SEP.split(title)
    if len(parts) > 1 and _is_host_name(parts[-1], host):
        return title[: title.rfind(parts[-1])].rstrip(" |｜-–—")
    if len(parts) > 1 and _is_host_name(parts[0], host):
        return title[len(parts[0]) :].lstrip(" |｜-–—")
    return title


def _bare_form(decorated: str, other: str) -> bool:
    """True when `other` is `decorated` without a site-name prefix or suffix."""
    if decorated.startswith(other):
        return re.match(rf"{_SUFFIX_SEP}\S", decorated[len(other) :]) is not None
    if decorated.endswith(other):
        return re.search(rf"\S{_PREFIX_SEP}$", decorated[: -len(other)]) is not None
    return False


def _best_title(candidates: list[str], names: list[str], host: str) -> str | None:
    site_names = {name.casefold() for name in names}
    cleaned = [_strip_site(c, names, host) for c in candidates if c]
    cleaned = [c for c in cleaned if c and c.casefold() not in site_names]
    if not cleaned:
        return None
    best = cleaned[0]
    # A less trusted form may be the same headline without a decoration no site name
    # revealed (og:title "Headline | Site" without og:site_name, <h1> "Headline").
    return next((other for other in cleaned[1:] if _bare_form(best, other)), best)


def _stated_times(meta: dict[str, str], linked: LinkedData, tree: HtmlElement) -> Iterator[str]:
    """Machine-readable publication times the page states, most trusted first."""
    yield from (meta[key] for key in _META_DATE_KEYS if key in meta)
    if linked.date_published:
        yield linked.date_published
    for xpath in _TIME_XPATHS:
        yield from (_clean(str(value)) for value in tree.xpath(xpath)[:3])


def _published(
    meta: dict[str, str], linked: LinkedData, tree: HtmlElement, urls: list[str]
) -> tuple[datetime | None, str | None, PublishedAtSource | None]:
    for text in _stated_times(meta, linked, tree):
        if (at := parse_machine_time(text)) is not None:
            return at, text, PublishedAtSource.HTML_METADATA
    for url in urls:
        if (day := date_from_url(url)) is not None:
            return datetime(day.year, day.month, day.day, tzinfo=UTC), url, PublishedAtSource.URL
    return None, None, None


def _absolute_http(href: str | None, base: str | None) -> str | None:
    if not href:
        return None
    try:
        joined = urljoin(base or "", href.strip())
        parts = urlsplit(joined)
    except ValueError:
        return None
    return joined if parts.scheme in {"http", "https"} and parts.netloc else None


def _host(url: str | None) -> str:
    try:
        return urlsplit(url).hostname or "" if url else ""
    except ValueError:
        return ""


def read_page_meta(tree: HtmlElement, url: str | None) -> PageMeta:
    """Headline, publisher, publication time, declared language and address of a parsed page."""
    meta = _meta_values(tree)
    linked = read_linked_data(tree)
    canonical = _absolute_http(
        next(iter(tree.xpath("//link[@rel='canonical']/@href")), None), url
    ) or _absolute_http(meta.get("og:url"), url)
    source = _clean(meta.get("og:site_name")) or _clean(linked.publisher) or None
    names = [n for n in (source, _clean(linked.publisher), meta.get("application-name")) if n]
    h1, title = _h1(tree), _first_text(tree, "//head//title | //title")
    if h1 and _is_logo(h1, title, tree):
        names.append(h1)
    candidates = [
        meta.get("og:title", ""),
        _clean(linked.headline),
        h1,
        meta.get("twitter:title", ""),
        title,
    ]
    host = _host(canonical or url)
    # The HTML parser keeps XHTML's xml:lang as a plain attribute name.
    declared = tree.get("lang") or tree.get("xml:lang")
    languages = [declared, *(meta.get(key) for key in _META_LANGUAGE_KEYS)]
    published_at, published_text, published_source = _published(
        meta, linked, tree, [u for u in (url, canonical) if u]
    )
    return PageMeta(
        title=_best_title(candidates, names, host),
        headlines=tuple(c for c in candidates if c),
        source=source,
        published_at=published_at,
        published_text=published_text,
        published_source=published_source,
        language=next((code for tag in languages if (code := to_iso639_1(tag))), None),
        url=canonical or url,
    )
