"""The offline figure the pipeline benchmark holds the pipeline against: runs either side."""

from __future__ import annotations

import pytest

from benchmarks.pipeline_limits import OfflineRate, bracketing


def _run(seconds: float, cpu_s: float, peak_kib: int = 1000) -> OfflineRate:
    return OfflineRate(1, 10_000, seconds, 48_776, peak_kib, cpu_s)


def test_the_figure_is_the_mean_time_of_the_run_before_and_the_run_after() -> None:
    """A machine that slowed from 20 s to 30 s a run is held to 25 s: 400 pages/s."""
    mean = bracketing(_run(20.0, 18.0, 900), _run(30.0, 26.0, 1100))
    assert mean.seconds == 25.0
    assert mean.pages_per_s == 400.0
    assert mean.cpu_s == 22.0
    assert mean.peak_rss_kib == 1100
    assert (mean.processes, mean.pages, mean.events) == (1, 10_000, 48_776)


def test_runs_over_other_pages_are_not_mixed() -> None:
    """Two runs that did not do the same work give no figure."""
    other = OfflineRate(2, 10_000, 10.0, 48_847, 1000, 18.0)
    with pytest.raises(ValueError, match="same pages"):
        bracketing(_run(20.0, 18.0), other)
