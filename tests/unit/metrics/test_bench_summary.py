"""The pipeline benchmark's closing summary of the targets it judged."""

from __future__ import annotations

import pytest

from benchmarks.pipeline_report import Summary


def test_the_summary_repeats_each_judged_target_in_order(
    capsys: pytest.CaptureFixture[str],
) -> None:
    summary = Summary()
    assert summary.judge("pipeline / offline, 1 worker(s)", "0.83 (>= 0.80)", True) == "PASS"
    assert summary.judge("drain, 2 workers / 1", "1.52x (>= 1.6x)", False) == "FAIL"
    summary.print()
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "[summary] the targets this run judged:",
        "[summary]   pipeline / offline, 1 worker(s)  0.83 (>= 0.80)  PASS",
        "[summary]   drain, 2 workers / 1             1.52x (>= 1.6x)  FAIL",
    ]


def test_a_run_that_judged_nothing_prints_no_summary(capsys: pytest.CaptureFixture[str]) -> None:
    Summary().print()
    assert capsys.readouterr().out == ""
