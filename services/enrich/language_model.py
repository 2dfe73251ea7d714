"""Loading py3langid's model fast: an unpacked copy of it in a cache directory.

py3langid ships its model as an LZMA-compressed npz: unpacking it costs seconds of CPU in
every process that detects a language (3-4 s on a slow core), which dominates a short
`newsflow enrich` run and every enrich worker's first page. `load_identifier` unpacks the
model once into a cache directory as plain ``.npy`` files (about 80 MB) and maps them in
later processes, which takes a fraction of a second. The class-score table is stored as
float32: the same numbers as the shipped float16 (every float16 is exact in float32, and
py3langid computes in float32 anyway), but gathering rows of it is several times faster.

The cache is an optimisation only: when it cannot be written (read-only file system) or
read, the model is loaded from the package as py3langid does it, with the same results.
A cache is keyed by py3langid's version and the model file's size and mtime, and written
to a temporary directory renamed into place, so concurrent processes never see half of one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from array import array
from importlib.metadata import version
from pathlib import Path
from typing import Final

import numpy as np
import structlog
from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier
from py3langid.modelio import load_model

_log = structlog.get_logger(__name__)

_ARRAYS: Final = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat")
_TYPECODES: Final = {2: "H", 4: "I", 8: "L"}


def _model_path() -> Path:
    return Path(MODEL_DIR) / str(MODEL_FILE)


def _cache_key(model: Path) -> str:
    stat = model.stat()
    return f"py3langid-{version('py3langid')}-{stat.st_size}-{stat.st_mtime_ns}"


def _to_array(values: np.ndarray) -> array[int]:
    # py3langid walks its automaton over these in pure Python: indexing a stdlib array is
    # much faster there than indexing numpy.
    out = array(_TYPECODES[values.dtype.itemsize])
    out.frombytes(np.ascontiguousarray(values).tobytes())
    return out


def _write_cache(model: Path, target: Path) -> None:
    ptc, pc, classes, nextmove, nextmove_row, out_feat = load_model(model)
    arrays = {
        "ptc": np.asarray(ptc, dtype=np.float32),
        "pc": np.asarray(pc),
        "classes": np.asarray(classes),
        "nextmove": np.frombuffer(nextmove, dtype=np.dtype(nextmove.typecode)),
        "nextmove_row": np.frombuffer(nextmove_row, dtype=np.dtype(nextmove_row.typecode)),
        "out_feat": np.asarray(out_feat, dtype=np.int32),
    }
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
    return LanguageIdentifier(
        # A plain ndarray over the same mapped pages: indexing a np.memmap goes through
        # its Python __getitem__ on every scoring call.
        np.asarray(loaded["ptc"]),
        np.asarray(loaded["pc"]),
        loaded["classes"].tolist(),
        _to_array(loaded["nextmove"]),
        loaded["out_feat"].tolist(),
        norm_probs=norm_probs,
        tk_row=_to_array(loaded["nextmove_row"]),
    )


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
    return LanguageIdentifier.from_model_file(model, norm_probs=norm_probs)
