"""Tests for whitespace normalisation and the line-shape predicates."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.enrich.text import (
    CONTROLS,
    ends_sentence,
    ends_with_full_stop,
    is_name_like,
    is_paragraph_like,
    markup_safe,
    normalise_text,
    split_lines,
    text_lines,
    word_count,
)


def test_crlf_and_cr_become_lf() -> None:
    """Windows and old Mac line ends become single newlines, blank lines kept."""
    assert normalise_text("a\r\nb\rc\r\n\r\nd") == "a\nb\nc\n\nd"


def test_unicode_line_separators_become_lf() -> None:
    """U+2028, U+2029 and NEL split lines like a newline does."""
    assert normalise_text("a\u2028b\u2029c\x85d") == "a\nb\nc\nd"


def test_nbsp_and_unicode_spaces_become_plain_spaces() -> None:
    """NBSP, narrow NBSP, em space, ideographic space and tabs become one plain space."""
    raw = "Russia\u00a0Today\u202f·\u20034h\u3000now\tok"
    assert normalise_text(raw) == "Russia Today · 4h now ok"


def test_invisible_characters_are_removed() -> None:
    """Zero-width space/joiners, word joiner, BOM and soft hyphen disappear."""
    raw = "\ufeffPri\u200bso\u00adners re\u200cle\u200dased\u2060"
    assert normalise_text(raw) == "Prisoners released"


def test_control_characters_are_removed_and_separators_kept() -> None:
    """NUL, bell, escape, DEL and the other controls go; tab, form feed and vertical tab are
    still a space and line breaks."""
    raw = "\x00Pri\x01so\x07ners\x1b re\x7fleased\x08\tand\x0e freed\x0cNext\x0bline"
    assert normalise_text(raw) == "Prisoners released and freed\nNext\nline"


def test_markup_safe_drops_what_xml_refuses_and_keeps_the_rest() -> None:
    """Controls are removed, vertical tab, form feed and 0x1c-0x1f become spaces; tab, LF, CR
    and every other character stay."""
    html = "<p>a\x00b\x1bc\x7fd e\x0bf\x0cg\x1ch\x1fi</p>\t\r\n«é»"
    assert markup_safe(html) == "<p>abcd e f g h i</p>\t\r\n«é»"


def test_spaces_collapse_and_lines_are_stripped() -> None:
    """Runs of spaces collapse to one; spaces at either end of a line go."""
    raw = "  Kiev   and  Moscow  \n   swap POWs \n \n"
    assert normalise_text(raw) == "Kiev and Moscow\nswap POWs\n\n"


def test_quotes_dashes_and_other_characters_are_kept() -> None:
    """Curly quotes, dashes, ellipses and non-Latin text pass through unchanged."""
    text = "‘We will win’ – he said… «Да» “yes” — 'no' ¿qué?"
    assert normalise_text(text) == text


def test_split_lines_keeps_blank_lines() -> None:
    """split_lines gives the normalised lines with blank ones as empty strings."""
    assert split_lines("a \r\n\r\n b") == ["a", "", "b"]


def test_text_lines_drop_blank_lines() -> None:
    """text_lines gives the normalised lines without the blank ones."""
    assert text_lines(" a \r\n\u00a0\r\n  b  c \n") == ["a", "b c"]


_WHITESPACE_HEAVY = st.text(
    alphabet=st.sampled_from(list("ab é\n\r\t\x85\x1c\u00a0\u2028\u3000\u200b\ufeff\u00ad"))
)


@given(st.one_of(st.text(), _WHITESPACE_HEAVY))
def test_text_lines_are_the_non_blank_normalised_lines(raw: str) -> None:
    """text_lines agrees with normalise_text split at newlines, blank lines left out."""
    assert text_lines(raw) == [line for line in normalise_text(raw).split("\n") if line]


@given(st.text())
def test_normalised_text_is_stable_and_clean(raw: str) -> None:
    """Normalising twice changes nothing, and no odd whitespace survives."""
    text = normalise_text(raw)
    assert normalise_text(text) == text
    assert "\r" not in text
    assert "\u00a0" not in text
    assert "\u200b" not in text
    assert not any(char in text for char in CONTROLS)
    assert "  " not in text
    assert all(line == line.strip(" ") for line in text.split("\n"))
    assert all(line.strip() == line for line in text.split("\n"))


@pytest.mark.parametrize(
    "line",
    [
        "Russia and Ukraine exchange more POWs (VIDEO)",
        "Belarus releases 14 prisoners during visit of Trump's envoy",
        "Is the draft working?",
        "Putin warns Kiev of 'final mistake'",
        "Trump says...",
        "Grève à la SNCF : le trafic perturbé jeudi",
    ],
)
def test_headlines_are_not_paragraph_like(line: str) -> None:
    """Short lines without a final period, including short questions, read as headlines."""
    assert not is_paragraph_like(line)


@pytest.mark.parametrize(
    "line",
    [
        "The freed soldiers are currently in Belarus.",
        "'Our response will be very harsh,' Putin said.",
        "El IPC bajó tres décimas en mayo, según el INE.",
        "Why would anyone do that? Nobody knows, the minister told reporters on Friday evening?",
        " ".join(["word"] * 40),
        "La ministra defendió la medida en el Congreso este martes ante la oposición que la"
        " criticó por llegar tarde y por no incluir fondos suficientes para las comunidades",
        "俄罗斯和乌克兰交换了更多战俘。",
    ],
)
def test_sentences_and_long_lines_are_paragraph_like(line: str) -> None:
    """Lines ending a sentence with a period, or too long for a headline, read as paragraphs."""
    assert is_paragraph_like(line)


@pytest.mark.parametrize(
    "line", ["Russia Today", "El País", "The Times of India", "rt.com", "France 24", "AFP"]
)
def test_publisher_names_are_name_like(line: str) -> None:
    """Capitalised short names, with connectors or digits, and domains look like publishers."""
    assert is_name_like(line)


@pytest.mark.parametrize(
    "line",
    [
        "Belarus releases 14 prisoners during visit of Trump's envoy",
        "Watch the video below",
        "Reuters.",
        "",
        "Explore what Daily8 AI can do for you:",
    ],
)
def test_headlines_and_sentences_are_not_name_like(line: str) -> None:
    """Long, lower-case or punctuated lines do not look like a publisher name."""
    assert not is_name_like(line)


def test_sentence_ends_see_through_closing_quotes() -> None:
    """A period inside closing quotes still ends the sentence; a question mark is no full stop."""
    assert ends_sentence("He called it 'a step in the right direction.'")
    assert ends_with_full_stop("He said “enough.”")
    assert ends_sentence("Is it over?")
    assert not ends_with_full_stop("Is it over?")
    assert not ends_sentence("Details to come")


def test_word_count_counts_space_separated_words() -> None:
    """word_count counts words of a normalised line; an empty line has none."""
    assert word_count("Russia Today · 4h") == 4
    assert word_count("") == 0
