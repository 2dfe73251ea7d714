"""Publication times written on news pages, resolved to UTC against the fetch time.

Owns the public dating API of enrich: telling whether a short line is a time
(`is_time_expression`), finding one inside a source line (`find_time_expression`),
resolving one to a UTC datetime never after the fetch (`resolve_time`) and reading a date
from an article URL (`date_from_url`). Common forms go through the compiled grammar in
`timestamps_formats` (microseconds); dateparser is only the fallback for other short forms,
because it costs milliseconds per call. Pure: the fetch time is always an argument.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

from schemas import PublishedAtSource
from services.enrich.draft import ResolvedTime
from services.enrich.timestamps_formats import (
    Age,
    Clock,
    DayWord,
    Reading,
    WrittenDate,
    could_be_time_word,
    parse,
    valid_day,
)

# The longest real time line ("Updated Wednesday, September 24, 2025 at 11:45 a.m. EDT") is
# about 60 characters; anything much longer is prose, and dateparser must never see prose.
_MAX_LINE: Final = 80
_MAX_TIME_WORDS: Final = 10
_MAX_FALLBACK_LINE: Final = 48
_MAX_FALLBACK_WORDS: Final = 7
# A date on the page may already be "tomorrow" in UTC where the site's zone is ahead of UTC, by
# up to 14 hours (UTC+14); only past that is a year-less date taken to be last year's.
_AHEAD_SLACK: Final = timedelta(hours=14)

_WRAPPERS: Final = "()[]{}|·•–—-,;"
_SEPARATORS_RE: Final = re.compile(r"\s+[-–—|·•/]\s+|\s*[|·•]\s*")
_WORD_RE: Final = re.compile(r"\S+")
_HAS_DIGIT_AND_LETTER_RE: Final = re.compile(r"(?=.*\d)(?=.*[^\W\d_])", re.DOTALL)
_ISO_LIKE_RE: Final = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
# /2025/06/21/, /2025-06-21-slug, _2025_6_1, or /20250621/ (digits alone only right after a
# slash, so that ids such as "a-123420250621" are not read as dates). htmldate's URL reader
# is not used: it misses the /20250621/ form and checks against today's clock.
_URL_DATE_RE: Final = re.compile(
    r"(?:^|[/_-])(?P<y>(?:19|20)\d{2})(?P<sep>[/_-])(?P<m>0?[1-9]|1[0-2])(?P=sep)"
    r"(?P<d>0?[1-9]|[12]\d|3[01])(?=$|[/_.-])"
    r"|/(?P<cy>(?:19|20)\d{2})(?P<cm>0[1-9]|1[0-2])(?P<cd>0[1-9]|[12]\d|3[01])(?=$|[/_.-])"
)
# Languages dateparser may try, by the script of the line: every extra language costs a full
# parse attempt on a failing line, and a short list stops rare languages from reading ordinary
# words as dates.
_LATIN_LANGUAGES: Final = [
    *("en", "es", "fr", "de", "pt", "it", "nl", "pl", "tr", "sv", "da", "nb", "fi", "cs"),
    *("ro", "hu", "id", "vi"),
]
_SCRIPT_LANGUAGES: Final = (
    (re.compile(r"[\u0400-\u04ff]"), ["ru", "uk", "bg", "sr"]),
    (re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]"), ["zh", "ja", "ko"]),
    (re.compile(r"[\u0600-\u06ff]"), ["ar", "fa", "ur"]),
    (re.compile(r"[\u0590-\u05ff]"), ["he"]),
    (re.compile(r"[\u0370-\u03ff]"), ["el"]),
    (re.compile(r"[\u0900-\u097f]"), ["hi"]),
    (re.compile(r"[\u0e00-\u0e7f]"), ["th"]),
)


def _normalise(text: str) -> str:
    # NBSP and other Unicode spaces are whitespace to str.split; wrappers such as "(4h)" or
    # "— 4 hours ago" are dropped. Dots stay: they belong to "a.m." and "21 июня 2025 г.".
    return " ".join(text.split()).strip(_WRAPPERS).strip()


# Time texts repeat from line to line and page to page ("4h", "17 minutes ago", "Reuters"
# beside them), and the splitter reads each one again when the article is dated. Readings
# are immutable and depend on the text alone, so the last few thousand are kept: at most
# _CACHED_READINGS entries of at most 4 * _MAX_LINE characters each.
_CACHED_READINGS: Final = 8192


@lru_cache(maxsize=_CACHED_READINGS)
def _read(text: str) -> tuple[str, Reading | None]:
    if len(text) > 4 * _MAX_LINE:
        return "", None
    line = _normalise(text)
    if not line or len(line) > _MAX_LINE:
        return line, None
    return line, parse(line)


def _may_be_time(text: str) -> bool:
    # Every word of a time is a time word, whatever else the grammar then asks: checking
    # this first keeps the many lines that are no time (titles, names) out of the cache.
    return len(text) <= 4 * _MAX_LINE and could_be_time_word(text)


def is_time_expression(text: str) -> bool:
    """Whether the whole (short) line is a relative age, a day word or a written date."""
    return _may_be_time(text) and _read(text)[1] is not None


def find_time_expression(text: str) -> tuple[int, int] | None:
    """The (start, end) of a time written inside a short line beside a source, else None.

    "Russia Today · 4h" gives the span of "4h". Without a separator (" · ", " | ", " - "),
    only an explicit age ("4 hours ago") or a date with a year is taken, so that "USA Today"
    or "4h that changed" are not read as times.
    """
    if len(text) > 4 * _MAX_LINE:
        return None
    pieces: list[tuple[int, int]] = []
    start = 0
    for separator in _SEPARATORS_RE.finditer(text):
        pieces.append((start, separator.start()))
        start = separator.end()
    pieces.append((start, len(text)))
    for begin, end in pieces:
        span = _strip_span(text, begin, end)
        if span is not None and is_time_expression(text[span[0] : span[1]]):
            return span
    for begin, end in pieces:
        span = _strip_span(text, begin, end)
        if span is not None and (found := _edge_time(text, *span)) is not None:
            return found
    return None


def _strip_span(text: str, begin: int, end: int) -> tuple[int, int] | None:
    while begin < end and (text[begin].isspace() or text[begin] in _WRAPPERS):
        begin += 1
    while end > begin and (text[end - 1].isspace() or text[end - 1] in _WRAPPERS):
        end -= 1
    return (begin, end) if begin < end else None


def _edge_time(text: str, begin: int, end: int) -> tuple[int, int] | None:
    """The longest explicit time at the end, else at the start, of text[begin:end]."""
    words = [match.span() for match in _WORD_RE.finditer(text, begin, end)]
    timely = [could_be_time_word(text[start:stop]) for start, stop in words]
    first = len(words)
    while first > 1 and timely[first - 1] and len(words) - first < _MAX_TIME_WORDS:
        first -= 1
    for start in range(first, len(words)):
        if _is_explicit(text[words[start][0] : end]):
            return words[start][0], end
    last = 0
    while last < len(words) - 2 and timely[last + 1] and last < _MAX_TIME_WORDS:
        last += 1
    for stop in range(last, -1, -1):
        if timely[0] and _is_explicit(text[begin : words[stop][1]]):
            return begin, words[stop][1]
    return None


def _is_explicit(text: str) -> bool:
    if not _may_be_time(text):
        return False
    reading = _read(text)[1]
    if isinstance(reading, Age):
        return reading.marked
    return isinstance(reading, WrittenDate) and reading.year is not None


def resolve_time(text: str, fetched_at: datetime) -> ResolvedTime | None:
    """Resolve a written age or date against the (timezone-aware) fetch time, to UTC.

    The result is never after `fetched_at`; None when the text is not a time.
    """
    if fetched_at.utcoffset() is None:
        raise ValueError("fetched_at must be timezone-aware")
    fetched = fetched_at.astimezone(UTC)
    line, reading = _read(text)
    if reading is not None:
        how = (
            PublishedAtSource.ABSOLUTE_DATE
            if isinstance(reading, WrittenDate)
            else PublishedAtSource.RELATIVE_AGE
        )
        at = _resolve(reading, fetched)
    else:
        if not _worth_dateparser(line):
            return None
        found = _dateparser(line, fetched)
        if found is None:
            return None
        at, how = found
    return None if at is None else ResolvedTime(min(at, fetched), how, line)


def _resolve(reading: Reading, fetched: datetime) -> datetime | None:
    try:
        if isinstance(reading, Age):
            return fetched - reading.delta
        if isinstance(reading, DayWord):
            if reading.clock is None:
                return fetched - timedelta(days=reading.days_back)
            zone = _tzinfo(reading.clock.zone)
            day = fetched.astimezone(zone).date() - timedelta(days=reading.days_back)
            moment = _at(day, reading.clock, zone)
            # Without a zone the page's clock may be ahead of UTC by up to 14 hours, as for
            # year-less dates: only a time later than that is yesterday's.
            slack = _AHEAD_SLACK if reading.clock.zone is None else timedelta(0)
            if reading.alone and moment > fetched + slack:
                moment = _at(day - timedelta(days=1), reading.clock, zone)
            return moment
        return _resolve_date(reading, fetched)
    except OverflowError:
        # Only near year 1 or 9999: such a time has no datetime, so the text has no time.
        return None


def _resolve_date(reading: WrittenDate, fetched: datetime) -> datetime | None:
    zone = _tzinfo(reading.clock.zone if reading.clock else None)
    latest = fetched + _AHEAD_SLACK
    best: datetime | None = None
    for month, day in reading.month_days:
        moment = _dated(reading.year, month, day, clock=reading.clock, zone=zone, latest=latest)
        if moment is None:
            continue
        # Of two readings of "05/06/2025", the latest one not after the fetch is the likely one.
        if best is None or (moment <= latest and (best > latest or moment > best)):
            best = moment
    return best


def _dated(
    year: int | None,
    month: int,
    day: int,
    *,
    clock: Clock | None,
    zone: timezone | ZoneInfo,
    latest: datetime,
) -> datetime | None:
    if year is not None:
        return _at(date(year, month, day), clock, zone)
    # No year: the most recent one that is not after the fetch (Feb 29 may be 8 years back).
    for candidate in range(latest.year, max(latest.year - 9, 0), -1):
        if valid_day(candidate, month, day):
            moment = _at(date(candidate, month, day), clock, zone)
            if moment <= latest:
                return moment
    return None


def _at(day: date, clock: Clock | None, zone: timezone | ZoneInfo) -> datetime:
    if clock is None:
        return datetime.combine(day, time(), UTC)
    moment = time(clock.hour, clock.minute, clock.second, clock.microsecond)
    return datetime.combine(day, moment, zone).astimezone(UTC)


def _tzinfo(zone: str | timezone | None) -> timezone | ZoneInfo:
    if zone is None:
        return UTC
    return ZoneInfo(zone) if isinstance(zone, str) else zone


def _worth_dateparser(line: str) -> bool:
    """Whether a line the grammar did not read may still be a date in a less common form.

    A line made only of words the grammar knows ("4 hours", "500 years ago", "June 2025") was
    read and refused on purpose; only lines with other words (other languages) may be dates.
    """
    return (
        0 < len(line) <= _MAX_FALLBACK_LINE
        and not could_be_time_word(line)
        and line.count(" ") < _MAX_FALLBACK_WORDS
        and _HAS_DIGIT_AND_LETTER_RE.match(line) is not None
        and _ISO_LIKE_RE.match(line) is None
    )


def _dateparser(line: str, fetched: datetime) -> tuple[datetime, PublishedAtSource] | None:
    # Imported on first use: most pages never reach the fallback, and the import costs
    # about 0.2 s at every process start.
    from dateparser.date import DateDataParser  # noqa: PLC0415

    settings = {
        "RELATIVE_BASE": fetched.replace(tzinfo=None),
        "PREFER_DATES_FROM": "past",
        "RETURN_AS_TIMEZONE_AWARE": True,
        "TIMEZONE": "UTC",
        "TO_TIMEZONE": "UTC",
        # Not "timestamp" nor "no-spaces-time": they read "1718990000" or "2025" as dates.
        "PARSERS": ["relative-time", "custom-formats", "absolute-time"],
        # A weekday alone ("Friday") or a bare number is not a publication date.
        "REQUIRE_PARTS": ["month"],
    }
    languages = next(
        (languages for script, languages in _SCRIPT_LANGUAGES if script.search(line)),
        _LATIN_LANGUAGES,
    )
    found = DateDataParser(languages=languages, settings=settings).get_date_data(line)
    if found.date_obj is None:
        return None
    # Which parser read it is not reported; asking the relative one again, in the one locale
    # that matched, is cheap next to the first call (which tried every language).
    relative_settings = {**settings, "PARSERS": ["relative-time"]}
    if found.locale:
        again = DateDataParser(locales=[found.locale], settings=relative_settings)
    else:
        again = DateDataParser(languages=languages, settings=relative_settings)
    # DateData.parts is new in dateparser 1.5 (its stubs predate it); older ones do not say.
    parts: tuple[str, ...] = getattr(found, "parts", ("day",))
    if again.get_date_data(line).date_obj is not None:
        how = PublishedAtSource.RELATIVE_AGE
    elif "day" in parts:
        how = PublishedAtSource.ABSOLUTE_DATE
    else:
        return None  # "June 2025": dateparser would invent the day of the month.
    return found.date_obj.astimezone(UTC), how


def date_from_url(url: str) -> date | None:
    """The publication date an article URL states in its path (/2025/06/21/, /20250621/)."""
    path = url.split("?", 1)[0].split("#", 1)[0]
    if (host_at := path.find("://")) >= 0:
        path_at = path.find("/", host_at + 3)
        path = path[path_at:] if path_at >= 0 else ""
    for match in _URL_DATE_RE.finditer(path):
        year, month, day = (
            match.group("y", "m", "d") if match["y"] else match.group("cy", "cm", "cd")
        )
        if valid_day(int(year), int(month), int(day)):
            return date(int(year), int(month), int(day))
    return None
