"""One HTML news page in, one article draft out: the HTML side of enrich's pure core.

Owns `extract_html`. The page is parsed once (lxml, as a whole document); the
metadata (`html_meta`) and the main text (trafilatura) are read from that tree. The body is
the article text alone, paragraphs joined by a blank line: navigation, related links,
comments, share widgets, cookie banners and bylines are left out.

Rejections, all `PageRejected`: no markup or unparseable markup -> UNDECODABLE; markup
without any visible text -> EMPTY_PAGE; text but no article in it -> NO_ARTICLES; the
extractor failing on some odd input -> PROCESSING_ERROR. No other exception escapes.
"""

from __future__ import annotations

import re
from typing import Final

from lxml.etree import ParserError
from lxml.html import HtmlElement, HTMLParser, document_fromstring
from trafilatura import bare_extraction
from trafilatura.settings import use_config

from schemas import DeadLetterReason
from services.enrich.boilerplate import BoilerplateKind, boilerplate_kind
from services.enrich.draft import ArticleDraft
from services.enrich.errors import PageRejected
from services.enrich.html_meta import PageMeta, read_page_meta
from services.enrich.text import ends_sentence, markup_safe, normalise_text, one_line

# trafilatura's own parser settings. A parser holds no page state between documents.
# huge_tree lifts libxml2's nesting limit from 256 to 2048 elements: a page with unclosed
# <div>s or <font>s nests that deep, and past the limit libxml2 drops the rest of the page,
# article included. It also lifts the 10 MB limit on one text node, which no page reaches:
# ingest refuses pages over NEWSFLOW_MAX_PAGE_BYTES (5 MiB by default).
_PARSER: Final = HTMLParser(
    collect_ids=False,
    default_doctype=False,
    encoding="utf-8",
    remove_comments=True,
    remove_pis=True,
    huge_tree=True,
)
# Below MIN_EXTRACTED_SIZE characters of main text trafilatura falls back to its baseline,
# which runs the whole page into one line: headline, dateline and paragraphs. Its default,
# 250, is longer than a news brief; a brief's own paragraphs are the better text.
_EXTRACTION: Final = use_config()
_EXTRACTION.set("DEFAULT", "MIN_EXTRACTED_SIZE", "100")
# An opening tag, comment or doctype: without one the input is not HTML at all.
_MARKUP: Final = re.compile(r"<(?:[a-zA-Z][\w:-]*[\s/>]|!--|!doctype)", re.IGNORECASE)
# Short bylines, datelines and "meta" lines trafilatura does not know by their class on
# every site ("signature", "nota-meta"); the length bound keeps a whole article that merely
# carries such a class from being pruned. The leading [@class] step halves libxml2's work.
_PRUNE_XPATHS: Final = [
    "//*[@class][contains(@class, 'byline') or contains(@class, 'dateline')"
    " or contains(@class, 'signature') or contains(@class, 'author')"
    " or contains(@class, '-meta') or contains(@class, 'meta-')]"
    "[string-length(normalize-space(.)) < 160]",
]
_VISIBLE_TEXT: Final = (
    "//text()[not(ancestor::script or ancestor::style or ancestor::noscript"
    " or ancestor::template or ancestor::head)]"
)
# A body with no sentence and no long paragraph is a list of links, not an article.
_LONG_PARAGRAPH: Final = 100
_MAX_LEADING_HEADLINES: Final = 3
_TIME_SHOWN: Final = "//time[string-length(normalize-space()) < 80]"


def _document(html: str) -> HtmlElement:
    # Always a whole document, never fragment mode: lxml's fromstring (and so trafilatura's
    # loader) reads a page opening with a comment or a BOM as fragments and loses <html lang>.
    try:
        tree = document_fromstring(html, parser=_PARSER)
    except ValueError:
        # "Unicode strings with encoding declaration are not supported": an <?xml?> prolog.
        tree = document_fromstring(html.encode("utf-8", "surrogatepass"), parser=_PARSER)
    if not isinstance(tree, HtmlElement):
        raise TypeError(f"the parser gave {type(tree).__name__}, not an HTML element")
    return tree


def _parse(html: str) -> HtmlElement:
    if not html.strip():
        raise PageRejected(DeadLetterReason.EMPTY_PAGE, "the HTML body is empty")
    if _MARKUP.search(html) is None:
        raise PageRejected(DeadLetterReason.UNDECODABLE, "the body holds no HTML markup")
    try:
        return _document(markup_safe(html))
    except ParserError as err:
        # libxml2 found no element and no text at all ("Document is empty").
        raise PageRejected(DeadLetterReason.EMPTY_PAGE, f"the HTML holds nothing: {err}") from err
    except Exception as err:  # lxml raises many types on broken input
        raise PageRejected(
            DeadLetterReason.UNDECODABLE, f"the HTML cannot be parsed: {type(err).__name__}: {err}"
        ) from err


def _main_text(tree: HtmlElement, url: str | None) -> str:
    try:
        document = bare_extraction(
            tree,
            url=url,
            # fast: skip the readability/justext comparison, ~20% faster for the same text
            # on news pages; comments are reader text, not the article.
            fast=True,
            include_comments=False,
            include_tables=True,
            with_metadata=False,
            prune_xpath=_PRUNE_XPATHS,
            config=_EXTRACTION,
        )
    except Exception as err:  # the extractor's own failures on odd trees, not page faults
        raise PageRejected(
            DeadLetterReason.PROCESSING_ERROR,
            f"text extraction failed: {type(err).__name__}: {err}",
        ) from err
    text = getattr(document, "text", None) if document is not None else None
    return text if isinstance(text, str) else ""


def _paragraphs(text: str, meta: PageMeta, tree: HtmlElement) -> list[str]:
    paragraphs = [line for line in normalise_text(text).split("\n") if line]
    headlines = {h.casefold() for h in (meta.title, *meta.headlines) if h}
    # The extractor often keeps the headline, and the dateline a <time> element shows
    # ("2025年6月21日 15時30分"), as the first lines of the text.
    headlines.update(one_line(shown.text_content()).casefold() for shown in tree.xpath(_TIME_SHOWN))
    for _ in range(_MAX_LEADING_HEADLINES):
        if paragraphs and paragraphs[0].casefold() in headlines:
            paragraphs.pop(0)
    return _without_boilerplate(paragraphs)


def _without_boilerplate(paragraphs: list[str]) -> list[str]:
    # What the extractor keeps of a page's furniture, read as the text splitter reads it: an
    # inline widget line ("Advertisement", "Read more") goes; a section line ("Sign up for
    # our newsletter", "© 2025 ... All rights reserved", "Related articles") ends the article
    # once it has begun, and before that goes alone.
    kept: list[str] = []
    for paragraph in paragraphs:
        kind = boilerplate_kind(paragraph)
        if kind is BoilerplateKind.SECTION and kept:
            break
        if kind is None:
            kept.append(paragraph)
    return kept


def _has_visible_text(tree: HtmlElement) -> bool:
    return any(str(text).strip() for text in tree.xpath(_VISIBLE_TEXT))


def extract_html(html: str, url: str | None) -> ArticleDraft:
    """The article of one HTML news page, or `PageRejected` when the page has none."""
    tree = _parse(html)
    meta = read_page_meta(tree, url)
    paragraphs = _paragraphs(_main_text(tree, meta.url), meta, tree)
    if not any(ends_sentence(p) or len(p) >= _LONG_PARAGRAPH for p in paragraphs):
        if not _has_visible_text(tree):
            raise PageRejected(DeadLetterReason.EMPTY_PAGE, "the HTML holds no visible text")
        raise PageRejected(
            DeadLetterReason.NO_ARTICLES,
            f"no article text found in the HTML ({len(html)} chars, {len(paragraphs)} short lines)",
        )
    return ArticleDraft(
        title=meta.title or "",
        body="\n\n".join(paragraphs),
        source=meta.source,
        time_text=meta.published_text,
        published_at=meta.published_at,
        published_at_source=meta.published_source,
        language=meta.language,
        url=meta.url,
    )
