"""Raw pages for the metrics tests: an aggregator page with dated items, and a widgets-only one."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas import RawPage

FETCHED_AT = datetime(2025, 6, 21, 18, 0, tzinfo=UTC)

NEWS_BODY = "\n".join(
    [
        "Related Articles",
        "Harbour Times",
        "2 hours ago",
        "- Harbour Times",
        "Port workers end strike after wage deal",
        "Dock workers returned to the harbour on Monday after unions accepted a three-year"
        " wage agreement, ending a walkout that had stranded dozens of cargo ships.",
        "",
        "Valley Courier",
        "5 hours ago",
        "- Valley Courier",
        "Rail line reopens after flood repairs",
        "Trains ran again between the valley towns on Monday after engineers rebuilt two"
        " bridges washed away by last month's floods, the rail operator said.",
    ]
)
"""Two articles, published two and five hours before the fetch."""

WIDGETS_BODY = "Menu\nTrending now\nComments\nNo comments yet...\nLoad more"
"""Widget lines only: no article, a `no_articles` dead letter."""


def news_page(page_id: str, *, fetched_at: datetime = FETCHED_AT) -> RawPage:
    """The two-article page under `page_id`; the same body on two ids gives exact duplicates."""
    return RawPage(
        page_id=page_id, source="Daily Wire Digest", fetched_at=fetched_at, body=NEWS_BODY
    )


def widgets_page(page_id: str, *, fetched_at: datetime = FETCHED_AT) -> RawPage:
    """A page with no article in it."""
    return RawPage(
        page_id=page_id, source="Daily Wire Digest", fetched_at=fetched_at, body=WIDGETS_BODY
    )
