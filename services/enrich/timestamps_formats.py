"""The grammar of written publication times: one short line in, a `Reading` or None out.

Owns the compiled regexes for the common forms (ages such as "17 minutes ago", "4h",
"hace 2 horas"; day words such as "yesterday at 14:05"; dates such as "Jun 21, 2025",
"21. Juni 2025", "2025-06-21T14:05:00Z", "21/06/2025") and the readings they give. A
reading still needs the fetch time to become a datetime; `services.enrich.timestamps` does
that. Words are looked up in `timestamps_words`. Nothing here reads a clock or calls
dateparser: every function is a few regex matches and dict lookups.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import timedelta, timezone
from typing import Final, NamedTuple

from services.enrich.timestamps_words import (
    COMPACT_UNITS,
    DAY_WORDS,
    MAX_AGE,
    MONTHS,
    NOW_PHRASES,
    NUMBER_WORDS,
    SINGLE_UNITS,
    UNITS,
    WEEKDAYS,
    ZONES,
    word_list,
)


class Clock(NamedTuple):
    """A written time of day, with the zone it names (None: UTC is assumed)."""

    hour: int
    minute: int
    second: int = 0
    microsecond: int = 0
    zone: str | timezone | None = None
    """A fixed offset, a tz database key ("America/New_York" for "ET"), or None."""


class Age(NamedTuple):
    """A relative age: the article is `delta` older than the fetch."""

    delta: timedelta
    marked: bool
    """True when a word says it is an age ("ago", "hace", "just now"), not a bare "4h"."""


class DayWord(NamedTuple):
    """A day named relative to the fetch day ("yesterday"), with an optional time of day."""

    days_back: int
    clock: Clock | None
    alone: bool = False
    """A time of day written without a day ("11:30 PM ET"): the latest such moment not after
    the fetch, so yesterday's when today's is later."""


class WrittenDate(NamedTuple):
    """A calendar date as written; two (month, day) readings when "05/06" is ambiguous."""

    year: int | None
    month_days: tuple[tuple[int, int], ...]
    clock: Clock | None


Reading = Age | DayWord | WrittenDate


def _alternation(words: Iterable[str]) -> str:
    # Longest first, so that "a few" wins over "a" and "day before yesterday" over "yesterday".
    ordered = sorted(words, key=len, reverse=True)
    return "|".join(re.escape(word).replace(r"\ ", r"\s+") for word in ordered)


# Every pattern below reads a lower-cased line, and uses possessive quantifiers (`++`, `{3,}+`)
# so that a failing line fails at once instead of backtracking through each split of a word.
_LABELS: Final = (
    "updated", "last updated", "first published", "published", "posted", "modified",
    "created", "aktualisiert", "veröffentlicht", "actualizado", "publicado", "mis à jour",
    "publié", "atualizado", "aggiornato", "pubblicato", "обновлено", "опубликовано",
)  # fmt: skip
_LABEL_RE: Final = re.compile(
    rf"(?:{_alternation(_LABELS)})(?:\s++(?:on|at|le|am|el|em|il))?(?:\s*+:\s*+|\s++)"
)
_CLOCK: Final = (
    r"(?P<hh>\d{1,2}+)(?:(?P<sep>[:.]|\s?h\s?)(?P<mi>\d{2}))?"
    r"(?::(?P<ss>\d{2})(?:[.,](?P<frac>\d{1,6})\d*+)?)?"
    r"(?:\s*+(?P<ampm>[ap])\.?\s?m\b\.?)?(?:\s*+(?P<suffix>uhr|hs|h|ч)\b\.?)?"
    r"(?:\s*+\(?(?P<tz>(?:utc|gmt)\s*[+-]\s*\d{1,2}(?::?\d{2})?|[+-]\d{2}(?::?\d{2})?"
    r"|[^\W\d_]{1,5}+)\)?)?"
)
_JOIN: Final = r"(?:\s*,\s*|\s+(?:at|à|a\s+las|a\s+la|às|um|alle|ore|в|-|–|—|·|\|)\s+|\s+)"
_WEEKDAY: Final = r"(?:(?P<wd>[^\W\d_]++)\.?,?\s++)?"
_PRE_AGE: Final = ("hace ", "il y a ", "vor ", "há ", "ha ")
_POST_AGE: Final = (
    "ago", "ago.", "fa", "назад", "тому", "geleden", "temu", "önce", "sedan", "siden",
)  # fmt: skip
_POST_AGE_RE: Final = rf"(?:\s++(?P<post>{_alternation(_POST_AGE)}))?"

_DIGIT_AGE_RE: Final = re.compile(rf"(?P<num>\d{{1,4}}+)\s*+(?P<unit>[^\W\d_]++)\.?{_POST_AGE_RE}")
_WORD_AGE_RE: Final = re.compile(
    rf"(?:(?P<pre>{_alternation(p.strip() for p in _PRE_AGE)})\s++)?"
    rf"(?:(?P<num>\d{{1,4}}+)\s*+|(?P<wnum>{_alternation(NUMBER_WORDS)})\s++|(?P<apo>un')\s*+)?"
    rf"(?P<unit>[^\W\d_]++)\.?{_POST_AGE_RE}"
)
_CJK_AGE_RE: Final = re.compile(
    r"(?P<num>\d{1,4}+)\s*+(?P<unit>秒|分钟|分鐘|分|小时|小時|時間|天|日|周|週|个月|個月|ヶ月|か月|年"
    r"|초|분|시간|일|주|개월|년)\s*+(?P<post>前|以前|전)"
)
_DAY_RE: Final = re.compile(rf"(?P<day>{_alternation(DAY_WORDS)})(?:{_JOIN}{_CLOCK})?")
_DMY_NAME_RE: Final = re.compile(
    rf"{_WEEKDAY}(?P<d>\d{{1,2}}+)(?:st|nd|rd|th|er|º|°|ª|\.)?"
    r"\s*+(?:de\s++)?(?P<mon>[^\W\d_]{3,}+)\.?"
    r"(?:(?:\s*,\s*|\s+)(?:de\s+|del\s+)?(?P<y>\d{4}+)(?:\s*(?:г\.?|года))?)?"
    rf"(?:{_JOIN}{_CLOCK})?"
)
_MDY_NAME_RE: Final = re.compile(
    rf"{_WEEKDAY}(?P<mon>[^\W\d_]{{3,}}+)\.?\s++(?P<d>\d{{1,2}}+)(?:st|nd|rd|th)?"
    rf"(?:(?:\s*,\s*|\s+)(?P<y>\d{{4}}+))?(?:{_JOIN}{_CLOCK})?"
)
_NUMERIC_RE: Final = re.compile(
    rf"{_WEEKDAY}(?P<a>\d{{1,2}}+)(?P<dsep>[./-])(?P<b>\d{{1,2}}+)(?P=dsep)(?P<y>\d{{4}}+)\.?"
    rf"(?:{_JOIN}{_CLOCK})?"
)
_YMD_RE: Final = re.compile(
    r"(?P<y>\d{4}+)(?P<dsep>[./-])(?P<m>\d{1,2}+)(?P=dsep)(?P<d>\d{1,2}+)"
    rf"(?:(?:t|{_JOIN}){_CLOCK})?"
)
_CJK_DATE_RE: Final = re.compile(
    r"(?P<y>\d{4}+)\s*+[年년]\s*+(?P<m>\d{1,2}+)\s*+[月월]\s*+(?P<d>\d{1,2}+)\s*+[日일]"
    rf"(?:\s*+{_CLOCK})?"
)
# "le 21 juin", "el 21 de junio", "am 21. Juni": an article where a weekday may stand.
_ARTICLES: Final = frozenset(("le", "el", "den", "am", "il", "the"))
_CLOCK_RE: Final = re.compile(_CLOCK)
_CLOCK_GROUPS: Final = ("hh", "mi", "ss", "frac", "ampm", "suffix", "sep", "tz")
_DIGIT_RE: Final = re.compile(r"\d")
_LETTERS_RE: Final = re.compile(r"[^\W\d_]+")
_CJK_AGE_WORDS: Final = [
    unit + post
    for unit in word_list(
        "秒 分钟 分鐘 分 小时 小時 時間 天 日 周 週 个月 個月 ヶ月 か月 年 초 분 시간 일 주 개월 년"
    )
    for post in ("", "前", "以前", "전")
]
_PHRASES: Final = (*NUMBER_WORDS, *DAY_WORDS, *NOW_PHRASES, *_LABELS, *_PRE_AGE, *_POST_AGE)
# Every run of letters in a time line is one of these words.
_VOCABULARY: Final = frozenset(
    (
        *UNITS, *MONTHS, *WEEKDAYS, *ZONES, *_CJK_AGE_WORDS, *_ARTICLES,
        *(word for phrase in _PHRASES for word in _LETTERS_RE.findall(phrase)),
        *word_list("on at à a las la às um alle ore в de del le el em il y st nd rd th er"),
        *word_list("t z am pm p m uhr hs h ч г года 年 月 日 년 월 일 前 以前 전"),
    )
)  # fmt: skip
_DAY_PREFIXES: Final = tuple(DAY_WORDS)
_LABEL_PREFIXES: Final = tuple(label.split()[0] for label in _LABELS)

_DAYS_IN_MONTH: Final = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_MAX_OFFSET_HOURS: Final = 14


def valid_day(year: int | None, month: int, day: int) -> bool:
    """Whether the day exists in that month (of that year, when known)."""
    if not 1 <= month <= 12 or not 1 <= day <= _DAYS_IN_MONTH[month - 1]:
        return False
    if year is not None and not 1 <= year <= 9999:
        return False
    if year is not None and month == 2 and day == 29:
        return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return True


def _zone(text: str) -> str | timezone | None:
    key = text.replace(" ", "")
    if key in ZONES:
        return ZONES[key]
    sign_at = max(key.find("+"), key.find("-"))
    if sign_at < 0 or key[:sign_at] not in ("", "utc", "gmt"):
        return None
    digits = key[sign_at + 1 :].replace(":", "")
    hours, minutes = (int(digits[:-2]), int(digits[-2:])) if len(digits) > 2 else (int(digits), 0)
    if hours > _MAX_OFFSET_HOURS or minutes > 59:
        return None
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if key[sign_at] == "-" else offset)


def _clock(match: re.Match[str], *, alone: bool = False) -> Clock | None:
    """The time of day of a match whose `hh` group is set; None when it is not a real time."""
    hh, mi, ss, frac, ampm, suffix, sep, tz = match.group(*_CLOCK_GROUPS)
    if mi is None and ampm is None:
        return None
    # A bare "12:34" is as often a video length or a score as a time; it needs a marker.
    if alone and not (ampm or tz or suffix or "h" in (sep or "")):
        return None
    hour, minute, second = int(hh), int(mi or 0), int(ss or 0)
    if ampm is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "p" else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    zone = None
    if tz is not None and (zone := _zone(tz)) is None:
        return None
    return Clock(hour, minute, second, int(frac.ljust(6, "0")) if frac else 0, zone)


def _date(
    match: re.Match[str], year: int | None, month_days: tuple[tuple[int, int], ...]
) -> WrittenDate | None:
    weekday = match["wd"] if "wd" in match.re.groupindex else None
    if weekday and weekday not in WEEKDAYS and weekday not in _ARTICLES:
        return None
    month_days = tuple(md for md in month_days if valid_day(year, *md))
    if not month_days:
        return None
    if match["hh"] is None:
        return WrittenDate(year, month_days, None)
    clock = _clock(match)
    return None if clock is None else WrittenDate(year, month_days, clock)


def _age(match: re.Match[str]) -> Age | None:
    unit_word = match["unit"]
    unit = UNITS.get(unit_word)
    if unit is None:
        return None
    groups = match.groupdict()
    marked = groups.get("pre") is not None or groups["post"] is not None
    if groups["num"] is not None:
        count = int(groups["num"])
        if not marked and unit_word not in COMPACT_UNITS:
            return None
    elif not marked:
        return None
    elif groups.get("wnum") is not None:
        count = NUMBER_WORDS[" ".join(groups["wnum"].split())]
    elif groups.get("apo") is not None or unit_word in SINGLE_UNITS:
        count = 1  # "un'ora fa", "час назад"
    else:
        return None
    delta = unit * count
    return Age(delta, marked) if delta <= MAX_AGE else None


def _day(match: re.Match[str]) -> DayWord | None:
    days_back = DAY_WORDS[" ".join(match["day"].split())]
    if match["hh"] is None:
        return DayWord(days_back, None)
    clock = _clock(match)
    return None if clock is None else DayWord(days_back, clock)


def _named(match: re.Match[str]) -> WrittenDate | None:
    month = MONTHS.get(match["mon"])
    year = int(match["y"]) if match["y"] else None
    return None if month is None else _date(match, year, ((month, int(match["d"])),))


def _year_first(match: re.Match[str]) -> WrittenDate | None:
    return _date(match, int(match["y"]), ((int(match["m"]), int(match["d"])),))


def _numeric(match: re.Match[str]) -> WrittenDate | None:
    first, second = int(match["a"]), int(match["b"])
    # Dots mean day.month (de, ru, ...). With slashes or dashes the order is only certain when
    # one part exceeds 12; else both readings are kept and the fetch time picks between them.
    readings: tuple[tuple[int, int], ...]
    if match["dsep"] == "." or first > 12:
        readings = ((second, first),)
    elif second > 12 or first == second:
        readings = ((first, second),)
    else:
        readings = ((first, second), (second, first))
    return _date(match, int(match["y"]), readings)


def _time_alone(match: re.Match[str]) -> DayWord | None:
    clock = _clock(match, alone=True)
    return None if clock is None else DayWord(0, clock, alone=True)


_Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], Reading | None]]
_DIGIT_FIRST: Final[tuple[_Rule, ...]] = (
    (_DIGIT_AGE_RE, _age),
    (_YMD_RE, _year_first),
    (_NUMERIC_RE, _numeric),
    (_DMY_NAME_RE, _named),
    (_CJK_DATE_RE, _year_first),
    (_CJK_AGE_RE, _age),
    (_CLOCK_RE, _time_alone),
)
_DAY_FIRST: Final[tuple[_Rule, ...]] = ((_DAY_RE, _day),)
_AGE_MARKED: Final[tuple[_Rule, ...]] = ((_WORD_AGE_RE, _age),)
_WORD_FIRST: Final[tuple[_Rule, ...]] = (
    (_MDY_NAME_RE, _named),
    (_DMY_NAME_RE, _named),  # after a weekday or an article ("le 21 juin")
    (_NUMERIC_RE, _numeric),  # after a weekday
)


def _known_words(line: str) -> bool:
    """Whether every run of letters in a lower-cased line is a time word."""
    # Most lines offered are not times, and one of their first words already says so:
    # stopping there is several times cheaper than listing every word, and a plain loop
    # is cheaper than `all()` over a generator.
    for word in _LETTERS_RE.finditer(line):  # noqa: SIM110
        if word.group() not in _VOCABULARY:
            return False
    return True


def could_be_time_word(word: str) -> bool:
    """Whether a word may be part of a time line: digits, punctuation or known time words."""
    return _known_words(word.lower())


def parse(line: str) -> Reading | None:
    """Read a whitespace-normalised line that is wholly an age, a day word or a date."""
    line = line.lower()
    if line.startswith(_LABEL_PREFIXES) and (label := _LABEL_RE.match(line)):
        line = line[label.end() :]
    if line in NOW_PHRASES:
        return Age(timedelta(0), marked=True)
    if line in DAY_WORDS:
        return DayWord(DAY_WORDS[line], None)
    # One set operation rejects most lines of a page ("Russia Today", "4 hours that changed
    # Ukraine") before any regex runs: every word of a time line is a known time word.
    if not line or not _known_words(line):
        return None
    return _first_reading(line, _rules_for(line))


def _rules_for(line: str) -> tuple[_Rule, ...]:
    if line[0].isdigit():
        return _DIGIT_FIRST
    if line.startswith(_PRE_AGE) or line.endswith(_POST_AGE):
        return _AGE_MARKED
    if _DIGIT_RE.search(line) is None:
        return ()
    return _DAY_FIRST if line.startswith(_DAY_PREFIXES) else _WORD_FIRST


def _first_reading(line: str, rules: tuple[_Rule, ...]) -> Reading | None:
    for pattern, read in rules:
        if (match := pattern.fullmatch(line)) and (reading := read(match)) is not None:
            return reading
    return None
