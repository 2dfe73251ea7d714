"""Fingerprints: normalised text, event ids, content hashes, shingles and MinHash signatures."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
import regex  # type: ignore[import-untyped]  # no stubs ship with it
import xxhash
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

from services.enrich.fingerprint import (
    BANDS,
    NUM_PERM,
    PASS_BYTES,
    ArticleText,
    content_hash_for,
    estimate_jaccard,
    event_id_for,
    make_fingerprint,
    make_fingerprints,
    minhash_signature,
    normalise_for_fingerprint,
    shingles,
)
from services.enrich.fingerprint_minhash import xxh32
from tests.unit.enrich.test_dedupe import FERRY, POWER, STORM, TRAM, ZH_TRAM, trimmed

FETCHED = datetime(2025, 6, 20, 9, 30, tzinfo=UTC)
QUOTE_NOISE = {"'": "’", '"': "“", "-": "—"}


def test_normalising_drops_case_quotes_dashes_punctuation_and_spacing() -> None:
    """Case, quote style, dashes, punctuation and runs of whitespace do not survive."""
    assert (
        normalise_for_fingerprint(
            "“Don’t” — PANIC!", "It's a well–known\n\nfact: 3.5% of U.S. firms…"
        )
        == "dont panic its a well known fact 3 5 of u s firms"
    )
    assert normalise_for_fingerprint("Ｆｕｌｌ　ｗｉｄｔｈ", "") == "full width"


def test_event_id_is_a_uuid_of_the_normalised_text() -> None:
    """The event id is the xxh3-128 of the normalised text, written as a UUID."""
    normalised = normalise_for_fingerprint(*TRAM)
    expected = uuid.UUID(bytes=xxhash.xxh3_128_digest(normalised.encode()))
    assert event_id_for(normalised) == str(expected)


def _noisy(text: str, spaces: list[str]) -> str:
    noisy = "".join(word + spaces[i % len(spaces)] for i, word in enumerate(text.split()))
    for straight, curly in QUOTE_NOISE.items():
        noisy = noisy.replace(straight, curly)
    return noisy


@given(
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=200),
    st.lists(st.sampled_from([" ", "  ", "\n", "\t", "\n\n", "\u00a0"]), min_size=1),
)
def test_event_id_is_stable_under_whitespace_and_quote_noise(text: str, spaces: list[str]) -> None:
    """Re-spacing and re-quoting an article keeps its event id."""
    plain = event_id_for(normalise_for_fingerprint("Title", text))
    assert event_id_for(normalise_for_fingerprint(" TITLE ", _noisy(text, spaces))) == plain


@given(st.text(max_size=100), st.text(max_size=100))
def test_different_normalised_texts_get_different_ids(first: str, second: str) -> None:
    """Two different normalised texts never share an event id; equal ones always do."""
    assert (event_id_for(first) == event_id_for(second)) == (first == second)


@given(st.text(), st.text())
def test_any_text_fingerprints(title: str, body: str) -> None:
    """Arbitrary text, lone surrogates included, fingerprints without error."""
    fingerprint = make_fingerprint(title, body, owner="p#0", fetched_at=FETCHED)
    assert len(fingerprint.signature) == NUM_PERM * 4
    assert len(fingerprint.bands) == BANDS
    assert len(content_hash_for(title, body)) == 32


def test_content_hash_covers_the_exact_emitted_text() -> None:
    """The content hash is xxh3-128 of "title\\n\\nbody" and changes with any character."""
    title, body = STORM
    assert content_hash_for(title, body) == xxhash.xxh3_128_hexdigest(f"{title}\n\n{body}".encode())
    assert content_hash_for(title, body + " ") != content_hash_for(title, body)


def test_shingles_are_word_trigrams_in_spaced_scripts() -> None:
    """Space-delimited text gives overlapping 3-word shingles."""
    assert shingles("the tram line opens") == [b"the tram line", b"tram line opens"]
    assert shingles("two words") == [b"two words"]
    assert shingles("") == []


def test_shingles_are_character_trigrams_in_unspaced_scripts() -> None:
    """Chinese, Japanese and Thai give character 3-grams; embedded Latin words stay whole."""
    assert shingles("市议会批准") == ["市 议 会".encode(), "议 会 批".encode(), "会 批 准".encode()]
    assert shingles("東京でreuters") == [
        "東 京 で".encode(),
        "京 で reuters".encode(),
    ]
    assert len(shingles("กรุงเทพมหานคร")) == len("กรุงเทพมหานคร") - 2


def test_signatures_estimate_similarity() -> None:
    """Signatures of near duplicates agree on most values, of different articles on few."""
    storm = make_fingerprint(*STORM, owner="a#0", fetched_at=FETCHED)
    storm_trimmed = make_fingerprint(*trimmed(STORM), owner="b#0", fetched_at=FETCHED)
    power = make_fingerprint(*POWER, owner="c#0", fetched_at=FETCHED)
    ferry = make_fingerprint(*FERRY, owner="d#0", fetched_at=FETCHED)
    assert estimate_jaccard(storm.signature, storm.signature) == 1.0
    assert estimate_jaccard(storm.signature, storm_trimmed.signature) > 0.8
    assert estimate_jaccard(power.signature, ferry.signature) < 0.2
    shared_bands = set(storm.bands) & set(storm_trimmed.bands)
    assert len(shared_bands) > BANDS // 2
    assert not set(power.bands) & set(ferry.bands)


def test_fingerprint_is_deterministic_and_utc() -> None:
    """The same article gives the same fingerprint, with fetched_at converted to UTC."""
    local = FETCHED.astimezone(timezone(timedelta(hours=9)))
    first = make_fingerprint(*ZH_TRAM, owner="p#0", fetched_at=FETCHED)
    second = make_fingerprint(*ZH_TRAM, owner="p#0", fetched_at=local)
    assert first == second
    assert second.fetched_at.tzinfo is UTC


def test_naive_fetch_time_is_refused() -> None:
    """A fetched_at without a timezone is refused."""
    with pytest.raises(ValueError, match="timezone-aware"):
        make_fingerprint(*STORM, owner="p#0", fetched_at=datetime(2025, 6, 20))


def test_signature_lengths_must_match() -> None:
    """Signatures of different lengths cannot be compared."""
    with pytest.raises(ValueError, match="different lengths"):
        estimate_jaccard(b"\x00" * 8, b"\x00" * 4)


@given(st.lists(st.binary(min_size=1, max_size=40), max_size=1200))
@settings(max_examples=60, deadline=None)
def test_signature_equals_datasketch_minhash(shingle_list: list[bytes]) -> None:
    """The numpy MinHash gives exactly datasketch's affine32 MinHash with xxh32 as the hash."""
    reference = MinHash(num_perm=128, seed=1, scheme="affine32", hashfunc=xxhash.xxh32_intdigest)
    reference.update_batch(shingle_list)
    assert minhash_signature(shingle_list) == reference.hashvalues.astype("<u4").tobytes()


def _reference_normalise(title: str, body: str) -> str:
    # The normalisation as first written, one regex substitution per text.
    text = f"{title}\n{body}"
    for apostrophe in ("'", "’", "‘", "ʼ", "`", "´", "＇"):
        text = text.replace(apostrophe, "")
    text = regex.sub(r"[\p{P}\p{S}]+", " ", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(text.split())


@given(st.text(), st.text())
@settings(max_examples=300)
def test_normalising_equals_one_regex_substitution(title: str, body: str) -> None:
    """Punctuation and symbols of any script are removed exactly as by the regex [\\p{P}\\p{S}]."""
    assert normalise_for_fingerprint(title, body) == _reference_normalise(title, body)


MIXED = st.text(st.sampled_from([*"ab c.’-\n", "東", "京", "ก", "é", "😀", "ß", "\ud800"]))


@given(st.lists(st.tuples(MIXED, MIXED), max_size=8))
@settings(max_examples=100, deadline=None)
def test_fingerprinting_many_equals_one_by_one(articles: list[tuple[str, str]]) -> None:
    """Fingerprinting a batch gives each article the fingerprint it gets alone."""
    batch = [
        ArticleText(title, body, f"p#{i}", FETCHED + timedelta(hours=i))
        for i, (title, body) in enumerate(articles)
    ]
    assert make_fingerprints(batch) == [
        make_fingerprint(a.title, a.body, owner=a.owner, fetched_at=a.fetched_at) for a in batch
    ]


def test_a_batch_of_many_passes_gives_each_article_its_own_fingerprint() -> None:
    """A batch larger than one pass (PASS_BYTES), with an article longer than a pass among
    shorter ones, gives each article the fingerprint it gets alone."""
    words = ["harbour", "ferry", "storm", "tram", "power", "grid", "council", "vote"]
    bodies = [
        " ".join(f"{words[(i * 7 + n) % len(words)]}{n % (50 + i)}" for n in range(1200))
        for i in range(40)
    ]
    bodies.insert(17, " ".join(f"long{n}" for n in range(60_000)))
    batch = [ArticleText(f"Story {i}", body, f"p#{i}", FETCHED) for i, body in enumerate(bodies)]
    assert len(bodies[17].encode()) > PASS_BYTES
    assert sum(len(body.encode()) for body in bodies) > 3 * PASS_BYTES
    assert make_fingerprints(batch) == [
        make_fingerprint(a.title, a.body, owner=a.owner, fetched_at=a.fetched_at) for a in batch
    ]


@given(st.lists(st.binary(max_size=70), max_size=60))
@settings(max_examples=100, deadline=None)
def test_vectorised_xxh32_equals_xxhash(pieces: list[bytes]) -> None:
    """The numpy xxh32 of slices of one buffer equals xxhash's of each slice."""
    ends = np.cumsum([len(piece) for piece in pieces], dtype=np.int64)
    starts = ends - np.array([len(piece) for piece in pieces], dtype=np.int64)
    hashes = xxh32(b"".join(pieces), starts, ends)
    assert hashes.tolist() == [xxhash.xxh32_intdigest(piece) for piece in pieces]
