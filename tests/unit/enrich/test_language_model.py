"""The unpacked language-model cache: made once, read back, same answers as the packaged model."""

from __future__ import annotations

from pathlib import Path

import pytest
from py3langid.langid import LanguageIdentifier

from services.enrich.language_model import load_identifier

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
