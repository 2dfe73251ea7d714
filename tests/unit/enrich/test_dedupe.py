"""Dedupe verdicts over the in-memory store.

The ``SCENARIOS`` here take any ``Deduper`` over a fresh store; the integration tests run
the same ones over Redis and a SQLite file.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from schemas import DuplicateKind
from services.enrich.dedupe import (
    DEFAULT_THRESHOLD,
    DEFAULT_WINDOW,
    ORIGINAL,
    Deduper,
    DedupeStore,
    InMemoryDedupeStore,
    Registration,
    StoredSignature,
    Verdict,
    decide,
)
from services.enrich.fingerprint import Fingerprint, make_fingerprint

FETCHED = datetime(2025, 6, 20, 9, 30, tzinfo=UTC)

TRAM = (
    "Council approves eastern tram extension after marathon session",
    """The city council voted 31 to 12 late on Tuesday to approve a 6.4-kilometre extension of the eastern tram line, ending more than two years of debate over the route through the Marlow and Kettering districts.

The project, estimated to cost 412 million euros, will add nine stops between Central Station and the new hospital campus at Eastfield. Construction is expected to begin next spring and the first trams could run by the end of 2028, according to the transport department.

Deputy mayor Ana Ruiz, who has championed the scheme, said the vote was “a turning point for a part of the city that has waited far too long for decent public transport”. Opponents argued that the budget relied on optimistic ridership forecasts and that bus lanes would have delivered faster results at a fraction of the price.

Shopkeepers along Kettering Road, where the line will run in a dedicated lane, have raised concerns about the loss of 140 parking spaces. The council said it would open a compensation fund for businesses affected during the works and publish a detailed traffic plan before construction starts.

The regional government has promised to cover 40 percent of the cost, with the remainder coming from the city’s infrastructure budget and a loan from the European Investment Bank. A final funding agreement is due to be signed in March.""",  # noqa: E501
)
STORM = (
    "Storm warning issued for northern coast",
    """The national weather service issued an orange warning on Friday for the northern coast, where gusts of up to 110 kilometres per hour are expected overnight.

Ferry services between Port Halden and the outer islands have been suspended until Saturday afternoon, the operator said. Residents were advised to secure loose objects, stay away from piers and avoid coastal paths.

Schools in three municipalities will remain closed on Saturday morning, officials said. The warning is expected to be lifted by Sunday.""",  # noqa: E501
)
# Two more articles from the same source on the same day about the same storm as STORM:
# the same town, mayor, warning and quote, but different stories.
POWER = (
    "Storm cuts power to thousands in Port Halden",
    """About 14,000 homes in Port Halden were without electricity on Friday evening after the storm brought down power lines across the northern coast.

The grid operator said repair crews had been sent from the south but could not work on overhead lines while gusts remained above 90 kilometres per hour. Most customers should be reconnected by Saturday night, a spokesperson said.

Mayor Elena Varga said the town hall would open as a warm shelter with phone charging points. “We ask everyone to stay indoors until the wind drops and to keep off the roads,” she said.

The hospital in Port Halden switched to backup generators and postponed non-urgent operations. The national weather service issued an orange warning for the region until Sunday.""",  # noqa: E501
)
FERRY = (
    "Port Halden ferries halted as storm batters coast",
    """Hundreds of travellers were stranded in Port Halden on Friday after ferry services to the outer islands were suspended because of the storm.

Waves of up to six metres were recorded at the harbour entrance, the coast guard said, and two fishing boats were towed to safety in the afternoon. The ferry operator said it hoped to resume crossings on Saturday afternoon if the wind eased.

Mayor Elena Varga said hotels had agreed to offer reduced rates to stranded passengers. “We ask everyone to stay indoors until the wind drops,” she said, adding that the ferry terminal would stay open overnight.

Island residents said shops were running short of fresh food after two days without deliveries. The national weather service issued an orange warning for the region until Sunday.""",  # noqa: E501
)
ZH_TRAM = (
    "市议会批准东部有轨电车延伸线",
    """市议会周二深夜以31票赞成、12票反对通过了东部有轨电车线路延长6.4公里的方案，结束了围绕该线路走向长达两年多的争论。

该项目预计耗资4.12亿欧元，将在中央车站和东区新医院园区之间增设九个站点。交通部门表示，工程预计明年春天开工，首批电车最早可在2028年底投入运营。

副市长安娜·鲁伊斯表示，这次投票是“一个转折点”，这一地区等待像样的公共交通已经太久了。反对者则认为，预算依赖过于乐观的客流预测，增设公交专用道能以更低的成本更快见效。""",
)
ZH_STORM = (
    "北部沿海发布风暴橙色预警",
    """国家气象局周五对北部沿海发布橙色预警，预计夜间阵风最高可达每小时110公里。

运营方表示，哈尔登港与外岛之间的渡轮服务暂停至周六下午。当局提醒居民固定室外物品，远离码头和沿海步道。三个市镇的学校周六上午停课，预警预计周日解除。""",
)
TRAM_UPDATE = (
    "Update: The regional transport minister said on Wednesday that the funding agreement "
    "could be signed as early as February."
)
ZH_UPDATE = "更新：地区交通部长周三表示，资金协议最早可能在二月签署。"


def with_update(article: tuple[str, str], sentence: str) -> tuple[str, str]:
    """The article with an update sentence appended as a new paragraph."""
    return article[0], f"{article[1]}\n\n{sentence}"


def trimmed(article: tuple[str, str]) -> tuple[str, str]:
    """The article without its last sentence."""
    body = article[1].rstrip()
    cut = max(body.rfind(". ", 0, len(body) - 1), body.rfind("。", 0, len(body) - 1))
    assert cut > 0
    return article[0], body[: cut + 1]


def one_word_fixed(article: tuple[str, str], old: str, new: str) -> tuple[str, str]:
    """The article with one word corrected."""
    assert old in article[1]
    return article[0], article[1].replace(old, new, 1)


def fp(
    article: tuple[str, str], owner: str, at: datetime = FETCHED, *, noisy: bool = False
) -> Fingerprint:
    """The fingerprint of an article; ``noisy`` re-types it with case, space and quote noise."""
    title, body = article
    if noisy:
        title = f"  {title.upper()} "
        body = body.replace("“", '"').replace("”", '"').replace("’", "'").replace(" ", "  ")
    return make_fingerprint(title, body, owner=owner, fetched_at=at)


async def exact_duplicate_across_pages(deduper: Deduper) -> None:
    """The same article re-typed on another page is an exact duplicate of the first."""
    first = fp(TRAM, "page-a#0")
    again = fp(TRAM, "page-b#3", FETCHED + timedelta(hours=5), noisy=True)
    assert again.event_id == first.event_id
    assert await deduper.judge([first, fp(STORM, "page-a#1")]) == [ORIGINAL, ORIGINAL]
    assert await deduper.judge([again]) == [Verdict(first.event_id, DuplicateKind.EXACT)]


async def near_duplicates(deduper: Deduper) -> None:
    """An added update sentence, a trimmed last sentence and a one-word fix are near duplicates."""
    tram, storm = fp(TRAM, "page-a#0"), fp(STORM, "page-a#1")
    assert await deduper.judge([tram, storm]) == [ORIGINAL, ORIGINAL]
    later = FETCHED + timedelta(hours=2)
    variants = [
        fp(with_update(TRAM, TRAM_UPDATE), "page-b#0", later),
        fp(trimmed(TRAM), "page-c#0", later),
        fp(one_word_fixed(TRAM, "nine stops", "ten stops"), "page-d#0", later),
        fp(trimmed(STORM), "page-e#0", later),
        fp(one_word_fixed(STORM, "110", "120"), "page-f#0", later),
    ]
    assert await deduper.judge(variants) == [
        Verdict(tram.event_id, DuplicateKind.NEAR),
        Verdict(tram.event_id, DuplicateKind.NEAR),
        Verdict(tram.event_id, DuplicateKind.NEAR),
        Verdict(storm.event_id, DuplicateKind.NEAR),
        Verdict(storm.event_id, DuplicateKind.NEAR),
    ]


async def same_event_different_articles(deduper: Deduper) -> None:
    """Different articles about one event, from one source on one day, are all originals."""
    page = [fp(STORM, "page-a#0"), fp(POWER, "page-a#1"), fp(FERRY, "page-a#2")]
    assert await deduper.judge(page) == [ORIGINAL, ORIGINAL, ORIGINAL]
    assert await deduper.judge([fp(ZH_STORM, "page-b#0"), fp(ZH_TRAM, "page-b#1")]) == [
        ORIGINAL,
        ORIGINAL,
    ]


async def window(deduper: Deduper) -> None:
    """An article seen again within 7 days is a duplicate; beyond them it is original again."""
    first = fp(TRAM, "page-a#0")
    assert await deduper.judge([first]) == [ORIGINAL]
    six_days = FETCHED + timedelta(days=6)
    assert await deduper.judge([fp(TRAM, "page-b#0", six_days)]) == [
        Verdict(first.event_id, DuplicateKind.EXACT)
    ]
    eight_days = FETCHED + timedelta(days=8)
    assert await deduper.judge(
        [fp(TRAM, "page-c#0", eight_days), fp(trimmed(STORM), "page-c#1", eight_days)]
    ) == [ORIGINAL, ORIGINAL]
    # The new sighting now anchors the window: a copy a day later duplicates it.
    assert await deduper.judge([fp(TRAM, "page-d#0", eight_days + timedelta(days=1))]) == [
        Verdict(first.event_id, DuplicateKind.EXACT)
    ]


async def reprocessed_page(deduper: Deduper) -> None:
    """Judging the same page again gives the same verdicts; nothing duplicates itself."""
    await deduper.judge([fp(STORM, "page-a#0")])
    page = [
        fp(TRAM, "page-b#0"),
        fp(with_update(TRAM, TRAM_UPDATE), "page-b#1"),
        fp(STORM, "page-b#2"),
        fp(POWER, "page-b#3"),
    ]
    first = await deduper.judge(page)
    assert first == [
        ORIGINAL,
        Verdict(page[0].event_id, DuplicateKind.NEAR),
        Verdict(page[2].event_id, DuplicateKind.EXACT),
        ORIGINAL,
    ]
    assert await deduper.judge(page) == first
    assert await deduper.judge(page[::-1]) == first[::-1]


async def batching_in_fetched_at_order(deduper: Deduper) -> None:
    """Pages in fetched_at order get the verdicts of one-by-one judging however they are
    batched: a batch reaching 14 days on does not first drop what its own earlier articles,
    6 days on, still meet."""
    tram = fp(TRAM, "page-a#0")
    assert await deduper.judge([tram]) == [ORIGINAL]
    six_days, fourteen_days = FETCHED + timedelta(days=6), FETCHED + timedelta(days=14)
    batch = [fp(trimmed(TRAM), "page-b#0", six_days), fp(POWER, "page-c#0", fourteen_days)]
    assert await deduper.judge(batch) == [Verdict(tram.event_id, DuplicateKind.NEAR), ORIGINAL]


async def late_page_within_the_lateness(deduper: Deduper) -> None:
    """A page fetched 6 days after an article but judged after one fetched 7.5 days after it
    (another partition ahead, a backfill out of order) still meets that article."""
    tram = fp(TRAM, "page-a#0")
    assert await deduper.judge([tram]) == [ORIGINAL]
    assert await deduper.judge([fp(POWER, "page-b#0", FETCHED + timedelta(days=7.5))]) == [ORIGINAL]
    late = fp(trimmed(TRAM), "page-c#0", FETCHED + timedelta(days=6))
    assert await deduper.judge([late]) == [Verdict(tram.event_id, DuplicateKind.NEAR)]


async def partitions_at_different_speeds(slow: Deduper, fast: Deduper) -> None:
    """A partition 12 days behind another (a backfill whose partitions one worker went
    through faster) still meets the articles its pages duplicate: stores keep what the
    slowest partition needs, whichever worker judges it. Give dedupers that keep no minimum
    of articles (``min_records=0``): the minimum alone would keep these few."""
    tram = fp(TRAM, "page-a#0")
    assert await slow.judge([tram], {"raw/0": FETCHED}) == [ORIGINAL]
    for ahead in (fp(POWER, "page-b#0", FETCHED + timedelta(days=6)),
                  fp(FERRY, "page-c#0", FETCHED + timedelta(days=12))):  # fmt: skip
        assert await fast.judge([ahead], {"raw/1": ahead.fetched_at}) == [ORIGINAL]
    late = fp(trimmed(TRAM), "page-d#0", FETCHED + timedelta(days=6))
    assert await slow.judge([late], {"raw/0": late.fetched_at}) == [
        Verdict(tram.event_id, DuplicateKind.NEAR)
    ]


async def page_dated_far_ahead(deduper: Deduper) -> None:
    """A page dated a month after the others (a wrong clock, a stray page in a backfill)
    does not make a store holding few articles forget them."""
    tram = fp(TRAM, "page-a#0")
    assert await deduper.judge([tram]) == [ORIGINAL]
    stray = fp(POWER, "page-b#0", FETCHED + timedelta(days=30))
    assert await deduper.judge([stray]) == [ORIGINAL]
    copy = fp(TRAM, "page-c#0", FETCHED + timedelta(days=1), noisy=True)
    assert await deduper.judge([copy]) == [Verdict(tram.event_id, DuplicateKind.EXACT)]
    late = fp(trimmed(TRAM), "page-d#0", FETCHED + timedelta(days=1))
    assert await deduper.judge([late]) == [Verdict(tram.event_id, DuplicateKind.NEAR)]


async def order_within_batch(deduper: Deduper) -> None:
    """Within one batch, the earlier article is the original and the later one the duplicate."""
    updated = fp(with_update(TRAM, TRAM_UPDATE), "page-a#0")
    plain = fp(TRAM, "page-a#1")
    copy = fp(TRAM, "page-a#2")
    assert await deduper.judge([updated, plain, copy]) == [
        ORIGINAL,
        Verdict(updated.event_id, DuplicateKind.NEAR),
        Verdict(plain.event_id, DuplicateKind.EXACT),
    ]


async def cjk_near_duplicate(deduper: Deduper) -> None:
    """A Chinese article with an added update sentence is a near duplicate of the first one."""
    first = fp(ZH_TRAM, "page-a#0")
    assert await deduper.judge([first, fp(ZH_STORM, "page-a#1")]) == [ORIGINAL, ORIGINAL]
    assert await deduper.judge(
        [fp(with_update(ZH_TRAM, ZH_UPDATE), "page-b#0"), fp(TRAM, "page-b#1")]
    ) == [Verdict(first.event_id, DuplicateKind.NEAR), ORIGINAL]


GROUP_BASES = [TRAM, STORM, POWER, FERRY, ZH_TRAM, ZH_STORM]


def near_duplicate_groups(at: datetime = FETCHED) -> list[list[Fingerprint]]:
    """Per base article: it, its update, its trimmed version, both, and a re-typed copy."""
    groups = []
    for n, base in enumerate(GROUP_BASES):
        update = ZH_UPDATE if base[0].startswith(("市", "北")) else TRAM_UPDATE
        variants = [base, with_update(base, update), trimmed(base)]
        variants.append(with_update(trimmed(base), update))
        group = [fp(v, f"page-{n}-{i}#{i % 2}", at) for i, v in enumerate(variants)]
        group.append(fp(base, f"page-{n}-copy#0", at + timedelta(minutes=1), noisy=True))
        groups.append(group)
    return groups


Worker = Callable[[list[list[Fingerprint]]], Awaitable[list[Verdict]]]


def in_turn(deduper: Deduper) -> Worker:
    """A worker that judges its batches one after the other."""

    async def work(batches: list[list[Fingerprint]]) -> list[Verdict]:
        verdicts = []
        for batch in batches:
            verdicts += await deduper.judge(batch)
        return verdicts

    return work


async def two_workers(first: Worker, second: Worker, seed: int) -> None:
    """Two workers judging interleaved batches concurrently find one original per group."""
    groups = near_duplicate_groups()
    articles = [f for group in groups for f in group]
    random.Random(seed).shuffle(articles)
    batches = [articles[i : i + 3] for i in range(0, len(articles), 3)]
    verdicts_a, verdicts_b = await asyncio.gather(first(batches[0::2]), second(batches[1::2]))
    judged = dict(
        zip(
            [f.owner for batch in [*batches[0::2], *batches[1::2]] for f in batch],
            [*verdicts_a, *verdicts_b],
            strict=True,
        )
    )
    pairs = set()
    for group in groups:
        verdicts = [judged[f.owner] for f in group]
        originals = [f for f, v in zip(group, verdicts, strict=True) if v == ORIGINAL]
        assert len(originals) == 1, verdicts
        for f, verdict in zip(group, verdicts, strict=True):
            if verdict.kind is DuplicateKind.NEAR:
                assert verdict.duplicate_of == originals[0].event_id
            elif verdict.kind is DuplicateKind.EXACT:
                assert verdict.duplicate_of == f.event_id
            pairs.add((f.event_id, verdict.duplicate_of))
    assert not {(b, a) for a, b in pairs if a != b} & pairs


async def crash_then_reprocess(before: Deduper, after: Deduper) -> None:
    """A page judged, then judged again after a restart, gets the verdicts it got first."""
    page_one = [fp(TRAM, "page-1#0"), fp(STORM, "page-1#1")]
    page_two = [
        fp(with_update(TRAM, TRAM_UPDATE), "page-2#0"),
        fp(POWER, "page-2#1"),
        fp(STORM, "page-2#2", noisy=True),
        fp(trimmed(POWER), "page-2#3"),
    ]
    assert await before.judge(page_one) == [ORIGINAL, ORIGINAL]
    expected = [
        Verdict(page_one[0].event_id, DuplicateKind.NEAR),
        ORIGINAL,
        Verdict(page_one[1].event_id, DuplicateKind.EXACT),
        Verdict(page_two[1].event_id, DuplicateKind.NEAR),
    ]
    assert await before.judge(page_two) == expected  # the crash: these are never emitted
    assert await after.judge(page_two) == expected
    assert await after.judge(page_one) == [ORIGINAL, ORIGINAL]


SCENARIOS: list[Callable[[Deduper], Awaitable[None]]] = [
    exact_duplicate_across_pages,
    near_duplicates,
    same_event_different_articles,
    window,
    reprocessed_page,
    order_within_batch,
    cjk_near_duplicate,
    batching_in_fetched_at_order,
    late_page_within_the_lateness,
    page_dated_far_ahead,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
async def test_scenario_in_memory(scenario: Callable[[Deduper], Awaitable[None]]) -> None:
    """Each dedupe scenario holds over the in-memory store."""
    await scenario(Deduper(InMemoryDedupeStore()))


def day_items(day: int) -> tuple[datetime, list[Fingerprint]]:
    """Day `day`'s fetch time and three distinct articles fetched then."""
    at = FETCHED + timedelta(days=day)
    return at, [fp((f"Day {day} item {i}", POWER[1]), f"p{day}#{i}", at) for i in range(3)]


async def test_memory_is_bounded_by_the_window() -> None:
    """A month of articles leaves only the last window and lateness's worth on record."""
    store = InMemoryDedupeStore()
    deduper = Deduper(store, window=timedelta(days=2), lateness=timedelta(days=1), min_records=0)
    for day in range(30):
        at, page = day_items(day)
        await deduper.judge([*page, fp(TRAM, f"p{day}#3", at)])
        # Today's batch, and the four days before it within window and lateness of the
        # newest before it: three items a day, and TRAM once.
        assert len(store) <= 5 * 3 + 1
    assert len(store) == 5 * 3 + 1


async def test_partitions_at_different_speeds_in_memory() -> None:
    """One in-memory store keeps what the slowest partition needs."""
    deduper = Deduper(InMemoryDedupeStore(), min_records=0)
    await partitions_at_different_speeds(deduper, deduper)


async def test_a_stalled_partition_holds_back_at_most_the_max_skew() -> None:
    """A partition that stopped at day 0 keeps records at most the max skew longer."""
    store = InMemoryDedupeStore()
    deduper = Deduper(
        store,
        window=timedelta(days=2),
        lateness=timedelta(days=1),
        max_skew=timedelta(days=2),
        min_records=0,
    )
    await deduper.judge([fp(STORM, "stalled#0")], {"raw/0": FETCHED})
    for day in range(30):
        at, page = day_items(day)
        await deduper.judge(page, {"raw/1": at})
        # Before day d's batch the horizon is max(day 0, day d-1 - skew) - window - lateness:
        # days d-6 to d stay once the skew is reached, and the stalled STORM until then.
        assert len(store) <= 7 * 3 + 1
    assert len(store) == 7 * 3


async def test_the_oldest_go_only_beyond_the_minimum_of_records() -> None:
    """With room for 20 records, a month of 3 items a day keeps the 20 newest before each
    day's batch, beyond what the window and the lateness alone keep (16)."""
    store = InMemoryDedupeStore()
    deduper = Deduper(store, window=timedelta(days=2), lateness=timedelta(days=1), min_records=20)
    for day in range(30):
        at, page = day_items(day)
        await deduper.judge([*page, fp(TRAM, f"p{day}#3", at)])
        assert len(store) <= 20 + 3
    assert len(store) == 20 + 3


async def test_an_empty_batch_needs_no_store() -> None:
    """Judging no fingerprints gives no verdicts."""
    assert await Deduper(InMemoryDedupeStore()).judge([]) == []


def test_a_record_far_newer_than_the_article_is_not_its_original() -> None:
    """Exact content on record for an article fetched more than the window later is no duplicate."""
    article = fp(TRAM, "page-old#0")
    newer = Registration("page-new#0", 7, FETCHED + timedelta(days=9), ())
    close = Registration("page-new#0", 7, FETCHED + timedelta(days=1), ())
    week = timedelta(days=7)
    assert decide(article, newer, {}, window=week, threshold=0.6) == ORIGINAL
    assert decide(article, close, {}, window=week, threshold=0.6) == Verdict(
        article.event_id, DuplicateKind.EXACT
    )


def test_only_earlier_candidates_of_other_slots_count() -> None:
    """A candidate re-registered later, or from the same page slot, is never the original."""
    article = fp(with_update(TRAM, TRAM_UPDATE), "page-b#0")
    base = fp(TRAM, "page-a#0")
    mine = Registration("page-b#0", 5, FETCHED, ((base.event_id, 3),))
    week = timedelta(days=7)
    stored = StoredSignature("page-a#0", 3, FETCHED, base.signature)
    assert decide(article, mine, {base.event_id: stored}, window=week, threshold=0.6) == Verdict(
        base.event_id, DuplicateKind.NEAR
    )
    renumbered = {base.event_id: StoredSignature("page-z#0", 9, FETCHED, base.signature)}
    assert decide(article, mine, renumbered, window=week, threshold=0.6) == ORIGINAL
    same_slot = {base.event_id: StoredSignature("page-b#0", 3, FETCHED, base.signature)}
    assert decide(article, mine, same_slot, window=week, threshold=0.6) == ORIGINAL


@pytest.mark.parametrize(
    ("window_", "threshold"), [(timedelta(0), 0.6), (timedelta(days=1), 0.0), (timedelta(1), 1.5)]
)
def test_deduper_rejects_bad_settings(window_: timedelta, threshold: float) -> None:
    """A non-positive window or a threshold outside (0, 1] is refused."""
    with pytest.raises(ValueError, match="must be"):
        Deduper(InMemoryDedupeStore(), window=window_, threshold=threshold)


@pytest.mark.parametrize("seed", range(5))
async def test_two_workers_in_memory(seed: int) -> None:
    """Two Dedupers on one in-memory store find exactly one original per near-duplicate group."""
    store = InMemoryDedupeStore()
    await two_workers(in_turn(Deduper(store)), in_turn(Deduper(store)), seed)


async def test_crash_then_reprocess_in_memory() -> None:
    """A new Deduper over the same in-memory store repeats the verdicts of a crashed one."""
    store = InMemoryDedupeStore()
    await crash_then_reprocess(Deduper(store), Deduper(store))


def variants(seed: int) -> list[Fingerprint]:
    # Articles and their near and exact copies on a few pages an hour apart, shuffled.
    rng = random.Random(seed)
    articles = [TRAM, STORM, POWER, FERRY, ZH_TRAM, ZH_STORM]
    made = []
    for page in range(12):
        at = FETCHED + timedelta(hours=page)
        for position, article in enumerate(rng.sample(articles, 3)):
            variant = rng.choice([article, trimmed(article), with_update(article, TRAM_UPDATE)])
            made.append(fp(variant, f"page-{page}#{position}", at))
    return made


@pytest.mark.parametrize("seed", range(4))
async def test_batch_verdicts_equal_one_by_one(seed: int) -> None:
    """Judging articles in one batch gives the verdicts of judging them one at a time."""
    articles = variants(seed)
    one_by_one = Deduper(InMemoryDedupeStore())
    expected = [(await one_by_one.judge([article]))[0] for article in articles]
    assert await Deduper(InMemoryDedupeStore()).judge(articles) == expected
    assert any(verdict.kind is DuplicateKind.NEAR for verdict in expected)


@pytest.mark.parametrize("seed", range(4))
async def test_vectorised_verdicts_equal_decide(seed: int) -> None:
    """The Deduper's sliced, vectorised verdicts are decide()'s, one fingerprint at a time,
    over the same store answers."""
    articles = variants(seed)
    store = InMemoryDedupeStore()
    registrations = await store.register(articles, window=DEFAULT_WINDOW)
    stored = await store.signatures({e for r in registrations for e, _ in r.earlier})
    expected = [
        decide(f, r, stored, window=DEFAULT_WINDOW, threshold=DEFAULT_THRESHOLD)
        for f, r in zip(articles, registrations, strict=True)
    ]
    # A fresh store registers the same articles the same way (seqs and band members).
    got = await Deduper(InMemoryDedupeStore()).judge(articles)
    assert got == expected


async def band_members_come_oldest_first(stores: Sequence[DedupeStore]) -> None:
    """Every register answer lists its earlier band members by ascending seq, below its own.

    Copies of a few articles on many pages crowd their bands; batches go to the stores in
    turn (several stores share one state: a SQLite file's mirrors absorb each other's rows).
    """
    articles = variants(3) + [
        fp(with_update(TRAM, f"Update {n}: trams run again from {n} pm."), f"copy-{n}#0")
        for n in range(12)
    ]
    longest = 0
    for turn, start in enumerate(range(0, len(articles), 5)):
        store = stores[turn % len(stores)]
        for registration in await store.register(
            articles[start : start + 5], window=DEFAULT_WINDOW
        ):
            seqs = [seq for _, seq in registration.earlier]
            assert seqs == sorted(set(seqs))
            assert all(seq < registration.seq for seq in seqs)
            longest = max(longest, len(seqs))
    assert longest > 4  # more than the Deduper's first slice


async def test_band_members_come_oldest_first_in_memory() -> None:
    """The Deduper takes a store's order as is: the in-memory store answers oldest first."""
    await band_members_come_oldest_first([InMemoryDedupeStore()])


async def test_evicted_and_replaced_records_leave_their_bands() -> None:
    """After the window passes, a re-registered article finds no stale band members."""
    store = InMemoryDedupeStore()
    deduper = Deduper(store)
    await deduper.judge([fp(TRAM, "page-a#0"), fp(trimmed(TRAM), "page-b#0")])
    later = FETCHED + timedelta(days=9)  # past the window and the lateness
    assert await deduper.judge([fp(TRAM, "page-c#0", later)]) == [ORIGINAL]
    assert await deduper.judge([fp(trimmed(TRAM), "page-d#0", later)]) == [
        Verdict(fp(TRAM, "x#0").event_id, DuplicateKind.NEAR)
    ]
    assert len(store) == 2  # page-c's and page-d's; page-a's and page-b's are gone


async def test_a_record_giving_way_mid_batch_is_a_candidate_until_its_copy() -> None:
    """In one register call, the articles before an exact copy that replaces a record still
    meet the old record in their bands; the copy and those after it do not."""
    store = InMemoryDedupeStore()
    original = fp(TRAM, "page-a#0")
    [first] = await store.register([original], window=DEFAULT_WINDOW)
    later = FETCHED + DEFAULT_WINDOW + timedelta(hours=1)  # the old record gives way
    near, copy, after = (
        fp(trimmed(TRAM), "page-b#0", later),
        fp(TRAM, "page-c#0", later),
        fp(trimmed(TRAM), "page-d#0", later),
    )
    answers = await store.register([near, copy, after], window=DEFAULT_WINDOW)
    assert [answer.seq for answer in answers] == [2, 3, 2]  # page-d: near's event id
    assert answers[0].earlier == ((original.event_id, first.seq),)
    assert answers[1].earlier == ((near.event_id, 2),)  # the old record left its bands
    assert answers[2].owner == "page-b#0"
    assert answers[2].earlier == ()
    stored = await store.signatures([original.event_id])
    assert stored[original.event_id].seq == 3
    assert stored[original.event_id].owner == "page-c#0"
