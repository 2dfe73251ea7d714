"""The push summary: counts by reason, a few examples each, the exit code and the rendering."""

from __future__ import annotations

from newsflow.push_summary import EXAMPLES_PER_REASON, Tally
from newsflow.push_units import Rejection, Skip


def test_counts_by_reason_keep_only_the_first_examples() -> None:
    """Rejections are counted per reason by pages, with at most three examples per reason."""
    tally = Tally()
    tally.accept(["p-1", "p-2"])
    for n in range(5):
        tally.reject(Rejection(f"f.jsonl:{n}", "invalid_page", "body: Field required", 422))
    tally.reject(Rejection("a.jsonl:1 .. a.jsonl:40", "overloaded", "gave up", 503, pages=40))
    tally.skip(Skip("img.png", "unsupported_file"))

    summary = tally.summary(elapsed_s=2.0)

    assert dict(summary.rejected) == {"invalid_page": 5, "overloaded": 40}
    assert summary.rejected_examples["invalid_page"] == tuple(
        f"f.jsonl:{n} [HTTP 422]: body: Field required" for n in range(EXAMPLES_PER_REASON)
    )
    assert (summary.accepted, summary.page_ids, summary.rejected_total) == (2, ("p-1", "p-2"), 45)
    assert (summary.skipped_total, summary.pages_per_s, summary.exit_code) == (1, 1.0, 1)


def test_a_clean_run_exits_zero_and_renders_one_line() -> None:
    """With nothing rejected the exit code is 0 and the summary is one line of totals."""
    tally = Tally()
    tally.accept(["p-1"])
    tally.retries = 2

    summary = tally.summary(elapsed_s=0.5)

    assert summary.exit_code == 0
    assert summary.render() == (
        "pushed: 1 accepted, 0 rejected, 0 skipped, 2 retries in 0.50 s (2.0 pages/s)"
    )


def test_rendering_lists_reasons_by_count_with_their_examples() -> None:
    """Reasons are listed most frequent first, each followed by its examples."""
    tally = Tally()
    tally.reject(Rejection("a.html", "invalid_page", "no", 422))
    tally.reject(Rejection("b.txt", "connection_error", "gave up"))
    tally.reject(Rejection("c.txt", "connection_error", "gave up"))

    lines = tally.summary(elapsed_s=1.0).render().splitlines()

    assert lines[1:] == [
        "  rejected connection_error: 2",
        "    b.txt: gave up",
        "    c.txt: gave up",
        "  rejected invalid_page: 1",
        "    a.html [HTTP 422]: no",
    ]
