"""Loading py3langid's model fast: an unpacked copy of it in a cache directory.

py3langid ships its model as an LZMA-compressed npz: unpacking it costs seconds of CPU in
every process that detects a language (3-4 s on a slow core), which dominates a short
`newsflow enrich` run and every enrich worker's first page. `load_identifier` unpacks the
model once into a cache directory as plain ``.npy`` files (about 80 MB) and maps them in
later processes, which takes a fraction of a second. The class-score table is stored as
float32: the same numbers as the shipped float16 (every float16 is exact in float32, and
py3langid computes in float32 anyway), but gathering rows of it is several times faster.

Scoring walks py3langid's byte automaton (Aho-Corasick over the model's byte n-grams) over
the sample. py3langid does it one byte at a time in Python; `FeatureScanner` computes every
position's state at once in numpy: the automaton's state after a byte is the longest suffix
of the text read so far that is a prefix of a feature, never longer than the automaton's
depth, so it is also the state reached from the start over just the last `depth` bytes.
That is `depth` gathers for the whole sample, and the same features, counts and order
(hence the same scores to the bit) as py3langid's walk; tests compare the two. The depth
comes from a breadth-first pass over the automaton (about a second), kept in the cache.

The cache is an optimisation only: when it cannot be written (read-only file system) or
read, the same arrays are built from the packaged model in memory (a few seconds), with the
same results.
A cache is keyed by py3langid's version and the model file's size and mtime, and written
to a temporary directory renamed into place, so concurrent processes never see half of one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from array import array
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, Final

import numpy as np
import structlog
from py3langid.langid import MODEL_DIR, MODEL_FILE, RAW_FLOOR, LanguageIdentifier
from py3langid.modelio import load_model

_log = structlog.get_logger(__name__)

_ARRAYS: Final = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat", "depth")
_CACHE_FORMAT: Final = 2
"""Bumped when the files of a cache entry change, so older entries are not read."""
_TYPECODES: Final = {2: "H", 4: "I", 8: "L"}


def _model_path() -> Path:
    return Path(MODEL_DIR) / str(MODEL_FILE)


def _cache_key(model: Path) -> str:
    stat = model.stat()
    return f"py3langid-{version('py3langid')}-{stat.st_size}-{stat.st_mtime_ns}-v{_CACHE_FORMAT}"


def _to_array(values: np.ndarray) -> array[int]:
    # py3langid's constructor turns the row table into a list; from a stdlib array that
    # is much faster than from numpy.
    out = array(_TYPECODES[values.dtype.itemsize])
    out.frombytes(np.ascontiguousarray(values).tobytes())
    return out


@dataclass(frozen=True, slots=True)
class FeatureScanner:
    """py3langid's feature automaton, walked over a whole sample in `depth` numpy steps."""

    nextmove: np.ndarray
    """The next state for (row of a state) * 256 + byte."""
    rowbase: np.ndarray
    """Each state's row offset into `nextmove` (its row times 256), int64."""
    output: np.ndarray
    """The feature a state completes, or -1."""
    depth: int
    """The longest path from the start state to any state (the longest feature, in bytes)."""

    def counts(self, data: bytes) -> tuple[np.ndarray, np.ndarray]:
        """Features found in `data` and how often, in order of first occurrence.

        The same as py3langid's `visit_counts` (a Counter, whose keys keep that order).
        """
        codes = np.frombuffer(data, dtype=np.uint8)
        size = len(codes)
        states = np.zeros(size, dtype=np.int64)
        # Step k reads, at every position i, the byte at i - k (positions before k start
        # later, from the start state, as the byte-by-byte walk does at the text's start).
        for back in range(min(self.depth, size) - 1, -1, -1):
            states[back:] = self.nextmove[self.rowbase[states[back:]] + codes[: size - back]]
        found = self.output[states]
        found = found[found >= 0]
        features, first, counts = np.unique(found, return_index=True, return_counts=True)
        order = np.argsort(first, kind="stable")
        return features[order].astype(np.intp), counts[order].astype(np.float32)


def automaton_depth(nextmove: np.ndarray, rowbase: np.ndarray) -> int:
    """The longest shortest path from the start state, by breadth-first search."""
    seen = np.zeros(len(rowbase), dtype=bool)
    seen[0] = True
    frontier = np.zeros(1, dtype=np.int64)
    every_byte = np.arange(256)
    depth = 0
    while True:
        reached = np.unique(nextmove[(rowbase[frontier][:, None] + every_byte).ravel()])
        reached = reached[~seen[reached]]
        if not len(reached):
            return depth
        seen[reached] = True
        frontier = reached.astype(np.int64)
        depth += 1


class ScanningIdentifier(LanguageIdentifier):  # type: ignore[misc]  # py3langid is untyped
    """py3langid's identifier with its byte walk done by a `FeatureScanner`; same scores."""

    __slots__ = ("scanner",)

    def __init__(self, *args: Any, scanner: FeatureScanner, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scanner = scanner

    def _raw_score(self, text: bytes) -> np.ndarray:
        # py3langid's _raw_score with the scanner's counts in place of visit_counts.
        features, counts = self.scanner.counts(text)
        if len(features):
            scores: np.ndarray = np.log1p(counts) @ self.nb_ptc[features] + self.nb_pc
            return scores
        fill = 0.0 if self._norm_probs else RAW_FLOOR
        return np.full(len(self.nb_classes), fill, dtype=np.float32)


def _model_arrays(model: Path) -> dict[str, np.ndarray]:
    """The packaged model as the arrays a cache entry holds, depth included (about a second)."""
    ptc, pc, classes, nextmove, nextmove_row, out_feat = load_model(model)
    arrays = {
        "ptc": np.asarray(ptc, dtype=np.float32),
        "pc": np.asarray(pc),
        "classes": np.asarray(classes),
        "nextmove": np.frombuffer(nextmove, dtype=np.dtype(nextmove.typecode)),
        "nextmove_row": np.frombuffer(nextmove_row, dtype=np.dtype(nextmove_row.typecode)),
        "out_feat": np.asarray(out_feat, dtype=np.int32),
    }
    rowbase = arrays["nextmove_row"].astype(np.int64) << 8
    arrays["depth"] = np.asarray(automaton_depth(arrays["nextmove"], rowbase))
    return arrays


def _identifier(arrays: dict[str, np.ndarray], *, norm_probs: bool) -> ScanningIdentifier:
    """The identifier over a cache entry's arrays (mapped from disk or just unpacked)."""
    nextmove = np.asarray(arrays["nextmove"])
    scanner = FeatureScanner(
        nextmove=nextmove,
        rowbase=arrays["nextmove_row"].astype(np.int64) << 8,
        output=np.asarray(arrays["out_feat"], dtype=np.int32),
        depth=int(arrays["depth"]),
    )
    return ScanningIdentifier(
        # A plain ndarray over the same mapped pages: indexing a np.memmap goes through
        # its Python __getitem__ on every scoring call.
        np.asarray(arrays["ptc"]),
        np.asarray(arrays["pc"]),
        arrays["classes"].tolist(),
        nextmove,  # py3langid's own walk is not used: no copy for it
        arrays["out_feat"].tolist(),
        norm_probs=norm_probs,
        tk_row=_to_array(arrays["nextmove_row"]),
        scanner=scanner,
    )


def _write_cache(model: Path, target: Path) -> None:
    arrays = _model_arrays(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for name, values in arrays.items():
            np.save(staging / f"{name}.npy", values, allow_pickle=False)
        os.replace(staging, target)
    except OSError:
        # Another process renamed its copy into place first, or the disk refused: either
        # way this copy is not needed.
        shutil.rmtree(staging, ignore_errors=True)
        if not target.is_dir():
            raise


def _read_cache(directory: Path, *, norm_probs: bool) -> LanguageIdentifier:
    loaded = {
        name: np.load(directory / f"{name}.npy", mmap_mode="r", allow_pickle=False)
        for name in _ARRAYS
    }
    return _identifier(loaded, norm_probs=norm_probs)


def _cached(model: Path, directory: Path, *, norm_probs: bool) -> LanguageIdentifier:
    if directory.is_dir():
        try:
            return _read_cache(directory, norm_probs=norm_probs)
        except (OSError, ValueError) as error:
            # A damaged copy (a disk that filled up, a file someone truncated) is replaced.
            _log.warning("language_model_cache_damaged", path=str(directory), error=str(error))
            shutil.rmtree(directory, ignore_errors=True)
    _write_cache(model, directory)
    _log.info("language_model_unpacked", path=str(directory))
    return _read_cache(directory, norm_probs=norm_probs)


def load_identifier(cache_dir: Path | None, *, norm_probs: bool = True) -> LanguageIdentifier:
    """py3langid's identifier, from an unpacked copy under `cache_dir` (made if missing).

    Without a cache directory, or when it cannot be used, the packaged model is loaded.
    """
    model = _model_path()
    if cache_dir is not None:
        directory = cache_dir / _cache_key(model)
        try:
            return _cached(model, directory, norm_probs=norm_probs)
        except (OSError, ValueError) as error:
            _log.warning("language_model_cache_unusable", path=str(directory), error=str(error))
    return _identifier(_model_arrays(model), norm_probs=norm_probs)
