"""Article texts and time texts for the synthetic corpus (see `benchmarks.corpus`).

Owns how one story is written from the language pools (an event's slots filled into a
random choice of sentence templates), how a near duplicate is derived from it, and how an
age or date is written together with the moment it names.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Final

from benchmarks.corpus_words import FIRST_NAMES, LAST_NAMES, PLACES, Language

Quotes = tuple[str, str, str]
"""Opening quote, closing quote, apostrophe."""


@dataclass(frozen=True, slots=True)
class Story:
    """An article as written once; pages show it verbatim (or a near duplicate of it)."""

    title: str
    paragraphs: tuple[tuple[str, ...], ...]
    """Sentences per paragraph."""
    source: str
    language: Language
    slots: dict[str, str] = field(hash=False)
    """The event it reports: person, place, organisation, topic, action, quote marks."""
    group: str
    event_group: str

    @property
    def body(self) -> str:
        """Paragraphs joined by a blank line."""
        return "\n\n".join(" ".join(p) for p in self.paragraphs)


def _fill(template: str, slots: dict[str, str], rng: random.Random, lang: Language) -> str:
    text = template.format(
        **slots,
        n=str(rng.choice((rng.randint(2, 60), rng.randint(61, 900)))),
        day=rng.choice(lang.weekdays),
    )
    return text[0].upper() + text[1:] if text[0].isalpha() else text


def event_slots(rng: random.Random, lang: Language, quotes: Quotes) -> dict[str, str]:
    """A new event: who, where, which organisation, topic and action, and the quote marks."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    org = rng.choice(lang.orgs)
    return {
        "P": f"{first} {last}",
        "L": last,
        "place": rng.choice(PLACES),
        "org": org,
        "org_cap": org[0].upper() + org[1:],
        "topic": rng.choice(lang.topics).replace("{a}", quotes[2]),
        "action": rng.choice(lang.actions).replace("{a}", quotes[2]),
        "q": quotes[0],
        "qc": quotes[1],
        "a": quotes[2],
    }


def write_story(
    rng: random.Random,
    lang: Language,
    slots: dict[str, str],
    *,
    source: str,
    group: str,
    event: str,
) -> Story:
    """A new article on the event in `slots`: 1-4 paragraphs of distinct template sentences."""
    n_paragraphs = rng.choices((1, 2, 3, 4), weights=(40, 30, 20, 10))[0]
    sizes = (
        [rng.randint(3, 12)]
        if n_paragraphs == 1
        else [rng.randint(1, 5) for _ in range(n_paragraphs)]
    )
    templates = rng.sample(lang.sentences, min(sum(sizes), len(lang.sentences)))
    paragraphs: list[tuple[str, ...]] = []
    for size in sizes:
        taken, templates = templates[:size], templates[size:]
        if taken:
            paragraphs.append(tuple(_fill(t, slots, rng, lang) for t in taken))
    title = _fill(rng.choice(lang.titles), slots, rng, lang)
    if lang.code == "en" and rng.random() < 0.1:
        title = " ".join(word[:1].upper() + word[1:] for word in title.split(" "))
    return Story(title, tuple(paragraphs), source, lang, slots, group, event)


def near_duplicate(rng: random.Random, story: Story) -> Story:
    """The story with an added sentence, its last sentence trimmed, or one word changed."""
    paragraphs = [list(p) for p in story.paragraphs]
    way = rng.choice(("update", "trim", "fix"))
    fixes = [
        (i, j, old, new)
        for i, p in enumerate(paragraphs)
        for j, s in enumerate(p)
        for old, new in story.language.fixes
        if old in s
    ]
    if way == "trim" and len(paragraphs[-1]) > 1:
        paragraphs[-1].pop()
    elif way == "trim" and len(paragraphs) > 1:
        paragraphs.pop()
    elif way == "fix" and fixes:
        i, j, old, new = rng.choice(fixes)
        paragraphs[i][j] = paragraphs[i][j].replace(old, new, 1)
    else:
        update = rng.choice(story.language.updates)
        paragraphs[-1].append(_fill(update, story.slots, rng, story.language))
    return replace(story, paragraphs=tuple(tuple(p) for p in paragraphs))


_TIME_WEIGHTS: Final = {
    "now": 2,
    "minutes": 30,
    "hours": 35,
    "one_hour": 5,
    "days": 8,
    "yesterday": 5,
    "date": 15,
}
# Minutes of history a kind of time text needs: "2 days ago" needs at least two days back.
_TIME_NEEDS: Final = {
    "now": 0,
    "minutes": 2,
    "hours": 120,
    "one_hour": 60,
    "days": 3 * 1440,
    "yesterday": 1440,
    "date": 1440,
}


def _date_text(rng: random.Random, lang: Language, day: date) -> tuple[str, datetime]:
    month = lang.months[day.month - 1]
    text = rng.choice(lang.dates).format(
        d=day.day, m=day.month, y=day.year, mon=month, mon3=month[:3]
    )
    return text, datetime(day.year, day.month, day.day, tzinfo=UTC)


def time_text(
    rng: random.Random, lang: Language, fetched: datetime, back: timedelta
) -> tuple[str, datetime]:
    """An age or date naming a moment at most `back` before the fetch, and that moment.

    The moment follows the conventions of the resolver: ages are exact, "yesterday" is one
    day before the fetch, a written date is its midnight UTC.
    """
    minutes = int(back.total_seconds() // 60)
    kinds = [kind for kind, least in _TIME_NEEDS.items() if minutes >= least]
    kind = rng.choices(kinds, weights=[_TIME_WEIGHTS[k] for k in kinds])[0]
    if kind == "now":
        return lang.now, fetched
    if kind == "date":
        days_back = rng.randint(0, min(20, minutes // 1440))
        return _date_text(rng, lang, (fetched - timedelta(days=days_back)).date())
    if kind == "yesterday":
        return lang.yesterday, fetched - timedelta(days=1)
    if kind == "one_hour":
        return rng.choice(lang.one_hour), fetched - timedelta(hours=1)
    unit, formats, most = {
        "minutes": (timedelta(minutes=1), lang.minutes, min(59, minutes)),
        "hours": (timedelta(hours=1), lang.hours, min(23, minutes // 60)),
        "days": (timedelta(days=1), lang.days, min(6, minutes // 1440)),
    }[kind]
    n = rng.randint(2, most)
    return rng.choice(formats).format(n=n), fetched - n * unit


def time_text_on_day(
    rng: random.Random, lang: Language, fetched: datetime, day: date
) -> tuple[str, datetime]:
    """A time text naming a moment on `day` (a near miss is from the same day as its twin)."""
    if day == fetched.date():
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return time_text(rng, lang, fetched, fetched - midnight)
    return _date_text(rng, lang, day)
