"""Dating: telling, finding and resolving the times written on news pages, and URL dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from schemas import PublishedAtSource
from services.enrich.timestamps import (
    date_from_url,
    find_time_expression,
    is_time_expression,
    resolve_time,
)

FETCHED = datetime(2025, 6, 21, 18, 0, tzinfo=UTC)
AGE = PublishedAtSource.RELATIVE_AGE
DATE = PublishedAtSource.ABSOLUTE_DATE


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# Every form the fast path reads, with its exact time against FETCHED (Sat 21 Jun 2025, 18:00Z).
FORMS: list[tuple[str, datetime, PublishedAtSource]] = [
    ("17 minutes ago", utc(2025, 6, 21, 17, 43), AGE),
    ("17 min ago", utc(2025, 6, 21, 17, 43), AGE),
    ("17 mins ago", utc(2025, 6, 21, 17, 43), AGE),
    ("17 min. ago", utc(2025, 6, 21, 17, 43), AGE),
    ("1 minute ago", utc(2025, 6, 21, 17, 59), AGE),
    ("a minute ago", utc(2025, 6, 21, 17, 59), AGE),
    ("an hour ago", utc(2025, 6, 21, 17), AGE),
    ("4h", utc(2025, 6, 21, 14), AGE),
    ("4 h", utc(2025, 6, 21, 14), AGE),
    ("4h ago", utc(2025, 6, 21, 14), AGE),
    ("4 hrs ago", utc(2025, 6, 21, 14), AGE),
    ("4 hours ago", utc(2025, 6, 21, 14), AGE),
    ("two hours ago", utc(2025, 6, 21, 16), AGE),
    ("a few minutes ago", utc(2025, 6, 21, 17, 57), AGE),
    ("30s", FETCHED - timedelta(seconds=30), AGE),
    ("2 days ago", utc(2025, 6, 19, 18), AGE),
    ("2d", utc(2025, 6, 19, 18), AGE),
    ("3 weeks ago", utc(2025, 5, 31, 18), AGE),
    ("2 weeks ago", utc(2025, 6, 7, 18), AGE),
    ("1w", utc(2025, 6, 14, 18), AGE),
    ("a month ago", utc(2025, 5, 22, 18), AGE),
    ("2 months ago", utc(2025, 4, 22, 18), AGE),
    ("a year ago", utc(2024, 6, 21, 18), AGE),
    ("just now", FETCHED, AGE),
    ("moments ago", FETCHED, AGE),
    ("yesterday", utc(2025, 6, 20, 18), AGE),
    ("today", FETCHED, AGE),
    ("yesterday at 3:45 PM", utc(2025, 6, 20, 15, 45), AGE),
    ("today, 09:30 CEST", utc(2025, 6, 21, 7, 30), AGE),
    ("9:30 a.m. ET", utc(2025, 6, 21, 13, 30), AGE),
    ("14:05 Uhr", utc(2025, 6, 21, 14, 5), AGE),
    ("14h05", utc(2025, 6, 21, 14, 5), AGE),
    ("Updated 5 minutes ago", utc(2025, 6, 21, 17, 55), AGE),
    ("Published 2 hours ago", utc(2025, 6, 21, 16), AGE),
    ("Jun 21, 2025", utc(2025, 6, 21), DATE),
    ("June 21, 2025", utc(2025, 6, 21), DATE),
    ("June 21st, 2025", utc(2025, 6, 21), DATE),
    ("21 June 2025", utc(2025, 6, 21), DATE),
    ("21 Jun 2025", utc(2025, 6, 21), DATE),
    ("Sept. 3, 2024", utc(2024, 9, 3), DATE),
    ("Jun 21", utc(2025, 6, 21), DATE),
    ("21 Jun", utc(2025, 6, 21), DATE),
    ("Saturday, June 21, 2025", utc(2025, 6, 21), DATE),
    ("2025-06-21", utc(2025, 6, 21), DATE),
    ("2025-06-21T14:05:00Z", utc(2025, 6, 21, 14, 5), DATE),
    ("2025-06-21T14:05:00.250+02:00", datetime(2025, 6, 21, 12, 5, 0, 250000, tzinfo=UTC), DATE),
    ("2025-06-21 14:05", utc(2025, 6, 21, 14, 5), DATE),
    ("2025/06/21", utc(2025, 6, 21), DATE),
    ("Jun 21, 2025, 3:45 PM", utc(2025, 6, 21, 15, 45), DATE),
    ("June 20, 2025 at 3:45 pm ET", utc(2025, 6, 20, 19, 45), DATE),
    ("January 15, 2025 at 3:45 pm ET", utc(2025, 1, 15, 20, 45), DATE),
    ("Updated Wednesday, June 18, 2025 at 11:45 a.m. EDT", utc(2025, 6, 18, 15, 45), DATE),
    ("Sat, 21 Jun 2025 14:05:00 GMT", utc(2025, 6, 21, 14, 5), DATE),
    ("Fri, 20 Jun 2025 14:05:00 +0300", utc(2025, 6, 20, 11, 5), DATE),
    ("June 20, 2025 10:00 UTC+2", utc(2025, 6, 20, 8), DATE),
    ("21/06/2025", utc(2025, 6, 21), DATE),
    ("06/21/2025", utc(2025, 6, 21), DATE),
    ("21.06.2025", utc(2025, 6, 21), DATE),
    ("20.06.2025, 14:05 Uhr", utc(2025, 6, 20, 14, 5), DATE),
    ("hace 17 minutos", utc(2025, 6, 21, 17, 43), AGE),
    ("hace 2 horas", utc(2025, 6, 21, 16), AGE),
    ("hace un día", utc(2025, 6, 20, 18), AGE),
    ("ayer", utc(2025, 6, 20, 18), AGE),
    ("il y a 4 heures", utc(2025, 6, 21, 14), AGE),
    ("il y a 2 jours", utc(2025, 6, 19, 18), AGE),
    ("il y a une heure", utc(2025, 6, 21, 17), AGE),
    ("hier", utc(2025, 6, 20, 18), AGE),
    ("vor 2 Stunden", utc(2025, 6, 21, 16), AGE),
    ("vor 17 Minuten", utc(2025, 6, 21, 17, 43), AGE),
    ("vor einer Stunde", utc(2025, 6, 21, 17), AGE),
    ("gestern", utc(2025, 6, 20, 18), AGE),
    ("há 3 horas", utc(2025, 6, 21, 15), AGE),
    ("2 ore fa", utc(2025, 6, 21, 16), AGE),
    ("un'ora fa", utc(2025, 6, 21, 17), AGE),
    ("17 минут назад", utc(2025, 6, 21, 17, 43), AGE),
    ("час назад", utc(2025, 6, 21, 17), AGE),
    ("вчера", utc(2025, 6, 20, 18), AGE),
    ("вчера в 14:05", utc(2025, 6, 20, 14, 5), AGE),
    ("2 uur geleden", utc(2025, 6, 21, 16), AGE),
    ("3小时前", utc(2025, 6, 21, 15), AGE),
    ("2일 전", utc(2025, 6, 19, 18), AGE),
    ("21 juin 2025", utc(2025, 6, 21), DATE),
    ("le 20 juin 2025 à 14h05", utc(2025, 6, 20, 14, 5), DATE),
    ("1er juin 2025", utc(2025, 6, 1), DATE),
    ("21. Juni 2025", utc(2025, 6, 21), DATE),
    ("21 de junio de 2025", utc(2025, 6, 21), DATE),
    ("21 de junho de 2025", utc(2025, 6, 21), DATE),
    ("21 giugno 2025", utc(2025, 6, 21), DATE),
    ("21 июня 2025 г.", utc(2025, 6, 21), DATE),
    ("2025年6月21日", utc(2025, 6, 21), DATE),
]


@pytest.mark.parametrize(("text", "expected", "how"), FORMS)
def test_each_form_is_a_time_line_and_resolves_exactly(
    text: str, expected: datetime, how: PublishedAtSource
) -> None:
    """Each common form is a whole time line and resolves to its exact UTC time and kind."""
    assert is_time_expression(text)
    resolved = resolve_time(text, FETCHED)
    assert resolved is not None
    assert (resolved.at, resolved.how, resolved.text) == (expected, how, text)
    assert resolved.at.tzinfo is UTC


NOT_TIMES = [
    "Russia Today",
    "USA Today",
    "The Times",
    "Yesterday's News Network",
    "Today in Focus",
    "4 hours that changed Ukraine",
    "4h that changed Ukraine",
    "Comments",
    "No comments yet...",
    "Related Articles",
    "- Russia Today",
    "DETAILS TO FOLLOW",
    "The central bank raised rates again on Thursday, citing inflation that stays high.",
    "2025",
    "12",
    "3:45",
    "12.50",
    "24/7",
    "9/11",
    "Top 10",
    "May",
    "Sunday",
    "June 2025",
    "10 min read",
    "4 hours",
    "500 years ago",
    "Feb 30, 2025",
    "31/31/2025",
    "25:00 UTC",
    "Agora",
    "now",
    "",
    "   ",
]


@pytest.mark.parametrize("text", NOT_TIMES)
def test_ordinary_lines_are_not_time_lines(text: str) -> None:
    """Publisher names, titles, prose and bare numbers are neither time lines nor resolved."""
    assert not is_time_expression(text)
    assert resolve_time(text, FETCHED) is None
    assert find_time_expression(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("17 minutes ago", utc(2025, 6, 21, 17, 43)),
        ("1 minutes ago", utc(2025, 6, 21, 17, 59)),
        ("17 minute ago", utc(2025, 6, 21, 17, 43)),
        ("17 MINUTES AGO", utc(2025, 6, 21, 17, 43)),
        ("Yesterday", utc(2025, 6, 20, 18)),
        ("JUNE 21, 2025", utc(2025, 6, 21)),
        ("  17 minutes ago \n", utc(2025, 6, 21, 17, 43)),
        ("\u00a017\u00a0minutes\u202fago\u00a0", utc(2025, 6, 21, 17, 43)),
        ("(4h)", utc(2025, 6, 21, 14)),
        ("4 HRS", utc(2025, 6, 21, 14)),
        ("17 minutes ago.", utc(2025, 6, 21, 17, 43)),
    ],
)
def test_number_case_spacing_and_wrappers_do_not_matter(text: str, expected: datetime) -> None:
    """Singular or plural, upper case, NBSP or padding, and brackets give the same time."""
    assert is_time_expression(text)
    resolved = resolve_time(text, FETCHED)
    assert resolved is not None
    assert resolved.at == expected


@pytest.mark.parametrize(
    "text",
    [
        "Jun 22, 2025",
        "June 21, 2025 at 7:00 pm",
        "June 21, 2025 at 3:45 pm ET",
        "Jun 21, 2026",
        "in 3 days",
        "2025-06-21T23:59:59+00:00",
    ],
)
def test_future_times_are_clamped_to_the_fetch_time(text: str) -> None:
    """A time later than the fetch (a zone ahead, a typo) resolves to the fetch time itself."""
    resolved = resolve_time(text, FETCHED)
    assert resolved is not None
    assert resolved.at == FETCHED


def _resolved_at(text: str, fetched: datetime) -> datetime:
    resolved = resolve_time(text, fetched)
    assert resolved is not None
    return resolved.at


@pytest.mark.parametrize(
    ("fetched", "text", "expected"),
    [
        (utc(2025, 1, 2, 10), "Dec 31", utc(2024, 12, 31)),
        (utc(2025, 1, 2, 10), "31 December", utc(2024, 12, 31)),
        (utc(2025, 1, 2, 10), "Jan 2", utc(2025, 1, 2)),
        (utc(2025, 1, 2, 10), "Jan 3", utc(2025, 1, 2, 10)),  # within UTC+14: today there
        (utc(2025, 1, 2, 10), "Jan 4", utc(2024, 1, 4)),
        (utc(2025, 3, 1, 12), "Feb 29", utc(2024, 2, 29)),
        (utc(2025, 1, 1, 0, 30), "yesterday", utc(2024, 12, 31, 0, 30)),
        (utc(2025, 1, 1, 0, 30), "23:50 UTC", utc(2024, 12, 31, 23, 50)),
    ],
)
def test_dates_without_a_year_take_the_latest_year_not_after_the_fetch(
    fetched: datetime, text: str, expected: datetime
) -> None:
    """A year-less date takes the fetch year, or an earlier one when it would be in the future."""
    assert _resolved_at(text, fetched) == expected


@pytest.mark.parametrize(
    ("fetched", "text", "expected"),
    [
        # 14:00 in New York: 11:30 PM ET there was the evening before.
        (utc(2025, 6, 21, 18), "11:30 PM ET", utc(2025, 6, 21, 3, 30)),
        (utc(2025, 6, 21, 18), "9:30 a.m. ET", utc(2025, 6, 21, 13, 30)),
        # 20:00 in Berlin: 21:30 CEST is yesterday's.
        (utc(2025, 6, 21, 18), "21:30 CEST", utc(2025, 6, 20, 19, 30)),
        # No zone: up to 14 hours after the fetch may be today where the site is.
        (utc(2025, 6, 21, 18), "11:30 PM", utc(2025, 6, 21, 18)),
        (utc(2025, 6, 21, 2), "11:30 PM", utc(2025, 6, 20, 23, 30)),
        # A day word is taken at its word, clamped to the fetch.
        (utc(2025, 6, 21, 18), "today, 21:30 CEST", utc(2025, 6, 21, 18)),
    ],
)
def test_a_time_of_day_alone_is_the_latest_such_moment_not_after_the_fetch(
    fetched: datetime, text: str, expected: datetime
) -> None:
    """ "11:30 PM ET" on a page fetched at 2 PM ET was written the evening before."""
    assert _resolved_at(text, fetched) == expected


def test_ambiguous_numeric_dates_take_the_latest_reading_not_after_the_fetch() -> None:
    """05/06/2025 is read as 5 June (not 6 May) in June, and as 6 May before 5 June."""
    june = resolve_time("05/06/2025", FETCHED)
    may = resolve_time("05/06/2025", utc(2025, 5, 20))
    assert june is not None
    assert may is not None
    assert (june.at, may.at) == (utc(2025, 6, 5), utc(2025, 5, 6))


def test_fetch_time_in_another_zone_resolves_to_utc() -> None:
    """A fetch time given in +02:00 gives the same UTC result as its UTC equivalent."""
    fetched = datetime(2025, 6, 21, 20, 0, tzinfo=timezone(timedelta(hours=2)))
    resolved = resolve_time("17 minutes ago", fetched)
    assert resolved is not None
    assert resolved.at == utc(2025, 6, 21, 17, 43)
    assert resolved.at.tzinfo is UTC


def test_naive_fetch_time_is_refused() -> None:
    """A naive fetch time is a caller bug, reported as ValueError rather than guessed."""
    with pytest.raises(ValueError, match="timezone-aware"):
        resolve_time("4h", datetime(2025, 6, 21, 18))


@pytest.mark.parametrize(
    ("text", "expected", "how"),
    [
        ("3 saat önce", utc(2025, 6, 21, 15), AGE),
        ("2 godziny temu", utc(2025, 6, 21, 16), AGE),
        ("15 Haziran 2025", utc(2025, 6, 15), DATE),
    ],
)
def test_other_languages_fall_back_to_dateparser(
    text: str, expected: datetime, how: PublishedAtSource
) -> None:
    """Forms outside the fast grammar (Turkish, Polish) are still resolved, through dateparser."""
    resolved = resolve_time(text, FETCHED)
    assert resolved is not None
    assert (resolved.at, resolved.how) == (expected, how)


@pytest.mark.parametrize("text", ["June 2025", "Page 2 of 5", "Friday 3pm", "1718990000"])
def test_dateparser_fallback_refuses_partial_or_numeric_dates(text: str) -> None:
    """A month without a day, a page number, a weekday or an epoch number is not a date."""
    assert resolve_time(text, FETCHED) is None


def test_long_text_is_never_a_time() -> None:
    """A paragraph that mentions a time is neither a time line nor resolved."""
    paragraph = "Officials said on Jun 21, 2025 that talks would resume. " * 3
    assert not is_time_expression(paragraph)
    assert resolve_time(paragraph, FETCHED) is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Russia Today · 4h", "4h"),
        ("4 hours ago | Reuters", "4 hours ago"),
        ("Reuters - 17 minutes ago", "17 minutes ago"),
        ("Reuters — Jun 21, 2025", "Jun 21, 2025"),
        ("BBC News • Today", "Today"),
        ("Reuters | (17 minutes ago)", "17 minutes ago"),
        ("Reuters, Jun 21, 2025", "Jun 21, 2025"),
        ("By Jane Doe Updated 5 minutes ago", "Updated 5 minutes ago"),
        ("4 hours ago Reuters", "4 hours ago"),
        ("Reuters just now", "just now"),
        ("17 minutes ago", "17 minutes ago"),
    ],
)
def test_find_time_expression_spans_the_time_beside_a_source(line: str, expected: str) -> None:
    """The span covers exactly the time written next to a publisher name."""
    span = find_time_expression(line)
    assert span is not None
    assert line[span[0] : span[1]] == expected


@pytest.mark.parametrize(
    "line", ["USA Today", "Russia Today", "Reuters 4h", "4h that changed Ukraine", "Channel 4 News"]
)
def test_find_time_expression_ignores_weak_times_without_a_separator(line: str) -> None:
    """Without a separator, a bare "4h" or a day word inside a name is not taken as a time."""
    assert find_time_expression(line) is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://news.example/2025/06/21/slug", date(2025, 6, 21)),
        ("https://news.example/world/20250621/slug", date(2025, 6, 21)),
        ("https://news.example/a/article-2025-06-21-slug.html", date(2025, 6, 21)),
        ("https://news.example/2025/6/1/slug", date(2025, 6, 1)),
        ("news.example/y/2024_12_31_slug", date(2024, 12, 31)),
        ("https://news.example/2025/06/21?from=2024/01/01", date(2025, 6, 21)),
        ("https://news.example/2025/02/30/slug", None),
        ("https://news.example/2025/06/slug", None),
        ("https://news.example/item-123420250621", None),
        ("https://2025-06-21.example/", None),
        ("https://news.example/story?d=2025-06-21", None),
        ("", None),
    ],
)
def test_date_from_url(url: str, expected: date | None) -> None:
    """A date in the URL path is read; ids, hosts, queries and impossible dates are not."""
    assert date_from_url(url) == expected


# --- properties -------------------------------------------------------------------------------

FETCH_TIMES = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
) | st.datetimes(
    min_value=datetime(1990, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from(
        [timezone(timedelta(hours=5, minutes=30)), ZoneInfo("America/New_York")]
    ),
)
TIME_WORDS = st.sampled_from(
    [*"0123456789", "12", "2025", "ago", "hace", "vor", "il", "y", "a", "h", "min", "hours",
     "jun", "juni", "de", "at", "pm", "et", "utc", "+02:00", "yesterday", "gestern", ":", "/",
     "-", ".", ",", "t", "z", "updated", "前", "年", "an", "un'", "few", " "]
)  # fmt: skip
TEXTS = st.text(max_size=120) | st.lists(TIME_WORDS, max_size=9).map(" ".join)


@settings(max_examples=400, deadline=None)
@given(text=TEXTS, fetched=FETCH_TIMES)
def test_arbitrary_text_never_raises_and_never_resolves_after_the_fetch(
    text: str, fetched: datetime
) -> None:
    """No text makes the functions raise; a resolved time is UTC and never after the fetch."""
    is_time_expression(text)
    span = find_time_expression(text)
    if span is not None:
        assert 0 <= span[0] < span[1] <= len(text)
        assert is_time_expression(text[span[0] : span[1]])
    date_from_url(text)
    resolved = resolve_time(text, fetched)
    if resolved is not None:
        assert resolved.at <= fetched
        assert resolved.at.tzinfo is UTC


AGE_TEMPLATES = {
    "{n} {unit} ago": {
        "minutes": timedelta(minutes=1),
        "hours": timedelta(hours=1),
        "days": timedelta(days=1),
        "weeks": timedelta(weeks=1),
        "months": timedelta(days=30),
    },
    "{n}{unit}": {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)},
    "hace {n} {unit}": {"minutos": timedelta(minutes=1), "horas": timedelta(hours=1)},
    "il y a {n} {unit}": {"heures": timedelta(hours=1), "jours": timedelta(days=1)},
    "vor {n} {unit}": {"Minuten": timedelta(minutes=1), "Tagen": timedelta(days=1)},
    "{n} {unit} fa": {"ore": timedelta(hours=1), "giorni": timedelta(days=1)},
    "{n} {unit} назад": {"минут": timedelta(minutes=1), "часов": timedelta(hours=1)},
}
AGES = st.sampled_from(
    [
        (template, unit, size)
        for template, units in AGE_TEMPLATES.items()
        for unit, size in units.items()
    ]
)


@given(age=AGES, n=st.integers(min_value=0, max_value=9999), fetched=FETCH_TIMES)
def test_generated_ages_resolve_to_fetch_time_minus_n_units(
    age: tuple[str, str, timedelta], n: int, fetched: datetime
) -> None:
    """ "n units ago" in any supported language resolves to exactly fetched_at - n * unit."""
    template, unit, size = age
    assume(n * size <= timedelta(days=365 * 100))
    text = template.format(n=n, unit=unit)
    assert is_time_expression(text)
    resolved = resolve_time(text, fetched)
    assert resolved is not None
    # Ages count real elapsed time, so across a DST change the wall clock moves by n*unit ± 1h.
    assert resolved.at == fetched.astimezone(UTC) - n * size
    assert resolved.how is AGE
