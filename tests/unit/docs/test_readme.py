"""The README documents what the code reads: every setting, with its default."""

from __future__ import annotations

from pathlib import Path

from newsflow.settings_doc import BEGIN, END, readme_block

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_settings_table_matches_the_settings_classes() -> None:
    """The README's settings table is what `python -m newsflow.settings_doc` generates."""
    text = README.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    assert text[start:end] == readme_block(), "run: python -m newsflow.settings_doc"


def test_readme_quick_start_is_make_run_and_make_test() -> None:
    """The quick start names exactly the two commands a new user runs."""
    text = README.read_text(encoding="utf-8")
    quick = text[text.index("## Quick start") : text.index("## Architecture")]
    assert "make run" in quick
    assert "make test" in quick
