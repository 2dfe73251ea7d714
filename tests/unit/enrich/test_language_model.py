"""The unpacked language-model cache: made once, read back, same answers as the packaged model."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py3langid.langid import MODEL_FILE, LanguageIdentifier, visit_counts

from services.enrich.language_model import ScanningIdentifier, load_identifier

TEXTS = (
    "The council approved the harbour budget after a long debate on Tuesday night.",
    "La banque centrale a estimé le coût des mesures à 605 millions d'euros.",
    "Die Regierung kündigte am Dienstag neue Maßnahmen gegen die hohen Energiepreise an.",
    "政府は火曜日、エネルギー価格の高騰に対する新たな対策を発表した。",
    "Правительство объявило о новых мерах против высоких цен на энергию.",
)


@pytest.fixture(scope="module")
def packaged() -> LanguageIdentifier:
    return load_identifier(None)


def _answers(identifier: LanguageIdentifier) -> list[list[tuple[str, float]]]:
    return [identifier.rank(text)[:3] for text in TEXTS]


def test_cache_is_written_once_and_answers_like_the_packaged_model(
    tmp_path: Path, packaged: LanguageIdentifier
) -> None:
    """The first load unpacks the model into the cache; later loads read it, same rankings."""
    first = load_identifier(tmp_path)
    (entry,) = tmp_path.iterdir()
    assert sorted(p.name for p in entry.iterdir()) == [
        "classes.npy",
        "depth.npy",
        "nextmove.npy",
        "nextmove_row.npy",
        "out_feat.npy",
        "pc.npy",
        "ptc.npy",
    ]
    written = {p.name: p.stat().st_mtime_ns for p in entry.iterdir()}
    second = load_identifier(tmp_path)
    assert {p.name: p.stat().st_mtime_ns for p in entry.iterdir()} == written
    assert _answers(first) == _answers(packaged)
    assert _answers(second) == _answers(packaged)


def test_unwritable_cache_falls_back_to_the_packaged_model(
    tmp_path: Path, packaged: LanguageIdentifier
) -> None:
    """A cache path that cannot be a directory still gives a working identifier."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory would go")
    identifier = load_identifier(blocker)
    assert _answers(identifier) == _answers(packaged)


def test_damaged_cache_is_unpacked_again(tmp_path: Path, packaged: LanguageIdentifier) -> None:
    """A cache entry with a truncated array is replaced by a fresh copy."""
    load_identifier(tmp_path)
    (entry,) = tmp_path.iterdir()
    (entry / "ptc.npy").write_bytes(b"\x93NUMPY broken")
    identifier = load_identifier(tmp_path)
    assert _answers(identifier) == _answers(packaged)
    assert (entry / "ptc.npy").stat().st_size > 1_000_000


@pytest.fixture(scope="module")
def plain() -> LanguageIdentifier:
    """py3langid as it ships, walking its automaton byte by byte."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@pytest.fixture(scope="module")
def scanning(tmp_path_factory: pytest.TempPathFactory) -> ScanningIdentifier:
    identifier = load_identifier(tmp_path_factory.mktemp("model"))
    assert isinstance(identifier, ScanningIdentifier)
    return identifier


def _walk(identifier: LanguageIdentifier, data: bytes) -> Counter[int] | None:
    found: Counter[int] | None = visit_counts(
        identifier.tk_nextmove, identifier._rowbase, identifier.tk_output, data
    )
    return found


def _samples() -> list[bytes]:
    rng = random.Random(7)
    texts = [t.encode() for t in TEXTS]
    samples = [b"", b"a", b"ab", *texts, b" ".join(texts)]
    for _ in range(300):
        text = rng.choice(texts)
        start = rng.randrange(len(text))
        samples.append(text[start : start + rng.randrange(1, 200)])
        samples.append(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40))))
    return samples


def test_scanner_finds_the_features_of_the_byte_walk_in_the_same_order(
    plain: LanguageIdentifier, scanning: ScanningIdentifier
) -> None:
    """Features, counts and first-seen order equal py3langid's walk, on text and noise."""
    for data in _samples():
        walked = _walk(plain, data) or Counter()
        features, counts = scanning.scanner.counts(data)
        assert list(walked) == features.tolist(), data
        assert list(walked.values()) == counts.tolist(), data


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300))
def test_scores_equal_py3langid_to_the_bit(
    text: str, plain: LanguageIdentifier, scanning: ScanningIdentifier
) -> None:
    """The whole scoring (normalised probabilities per class) is bit for bit py3langid's."""
    assert np.array_equal(scanning._decide(text), plain._decide(text))
