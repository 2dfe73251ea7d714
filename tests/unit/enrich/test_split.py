"""Tests for the text-page splitter: every aggregator layout newsflow meets, and the corpus."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.corpus import GeneratedPage, generate_pages
from services.enrich.boilerplate import is_boilerplate_line
from services.enrich.draft import ArticleDraft
from services.enrich.split import split_text_page
from tests.samples import SAMPLE_PAGE, SAMPLES

BELARUS = (
    "Keith Kellogg has visited Belarus and met with President Alexander Lukashenko. Shortly"
    " after the talks, Minsk released 14 prisoners, including a key opposition figure."
)
NUCLEAR = (
    "The use of a dirty bomb by Kiev would trigger a devastating response from Moscow,"
    " Dmitry Medvedev has said."
)
DRAFT = (
    "Ukrainian leader Vladimir Zelensky has reshuffled his top brass, with the goal of"
    " overhauling the country's flawed mobilization, the Financial Times reported."
)


def _page(*lines: str, newline: str = "\n") -> str:
    return newline.join(lines)


def _rows(drafts: list[ArticleDraft]) -> list[tuple[str, str | None, str | None]]:
    return [(d.title, d.source, d.time_text) for d in drafts]


def test_sample_page_gives_the_four_expected_articles() -> None:
    """The seed page yields its lead and three related items, exactly as a careful reader."""
    expected = json.loads((SAMPLES / "aggregator-seed.expected.json").read_text("utf-8"))
    drafts = split_text_page(expected["page"]["body"])
    assert [(d.title, d.body, d.source) for d in drafts] == [
        (a["title"], a["body"], a["source"]) for a in expected["articles"]
    ]
    assert [d.time_text for d in drafts] == [
        None,
        "17 minutes ago",
        "4 hours ago",
        "8 hours ago",
    ]
    for draft in drafts:
        for line in expected["not_article_text"]:
            assert line not in draft.title.split("\n")
            assert line not in draft.body.split("\n\n")


def test_sample_text_file_splits_like_the_envelope_body() -> None:
    """The raw .txt capture (as scraped) splits to the same articles as the JSON envelope."""
    text = (SAMPLES / "aggregator-seed.txt").read_text("utf-8")
    envelope = json.loads(SAMPLE_PAGE.read_text("utf-8"))
    assert split_text_page(text) == split_text_page(envelope["body"])
    assert len(split_text_page(text)) == 4


def test_other_site_with_its_own_widgets() -> None:
    """Another site's name in its widgets and other publishers split the same way."""
    page = _page(
        "Floods force thousands from homes in northern Italy",
        "Heavy rain caused rivers to burst their banks across Emilia-Romagna overnight.",
        "Rescue teams evacuated more than 4,000 people, the civil protection agency said.",
        "Share this article",
        "Explore what NewsHub AI can do for you:",
        "Trending now",
        "Related Stories",
        "",
        "Al Jazeera",
        "2 hours ago",
        "- Al Jazeera",
        "Wildfire near Athens brought under control",
        "Firefighters brought a wildfire near Athens under control on Tuesday.",
    )
    assert _rows(split_text_page(page)) == [
        ("Floods force thousands from homes in northern Italy", None, None),
        ("Wildfire near Athens brought under control", "Al Jazeera", "2 hours ago"),
    ]


def test_page_without_lead_starts_with_the_list() -> None:
    """With no lead article the items alone come out, in page order."""
    page = _page(
        "Related Articles",
        "Reuters",
        "17 min ago",
        "- Reuters",
        "Oil prices slip as demand worries grow",
        "Oil prices fell on Tuesday as investors weighed weaker demand from China.",
        "BBC News",
        "4h",
        "- BBC News",
        "Gold hits record high",
        "Gold rose to a record high on Tuesday amid bets on rate cuts.",
    )
    assert _rows(split_text_page(page)) == [
        ("Oil prices slip as demand worries grow", "Reuters", "17 min ago"),
        ("Gold hits record high", "BBC News", "4h"),
    ]


def test_page_with_lead_and_no_items() -> None:
    """A lead followed only by widgets is one article with all its paragraphs."""
    page = _page(
        "Government unveils new climate targets",
        "The government pledged to cut emissions by 60 percent by 2035.",
        "Ministers said the plan would be reviewed every two years.",
        "Comments",
        "No comments yet...",
        "Load more",
    )
    drafts = split_text_page(page)
    assert _rows(drafts) == [("Government unveils new climate targets", None, None)]
    assert drafts[0].body == (
        "The government pledged to cut emissions by 60 percent by 2035.\n\n"
        "Ministers said the plan would be reviewed every two years."
    )


def test_page_of_widgets_only_has_no_articles() -> None:
    """A page with nothing but widget lines gives [] (the caller dead-letters it)."""
    page = _page("Menu", "Trending now", "Comments", "No comments yet...", "© 2025 Daily8")
    assert split_text_page(page) == []
    assert split_text_page("") == []
    assert split_text_page("\n \r\n\t\n") == []


def test_twelve_items_come_out_in_order() -> None:
    """A list of a dozen items gives a dozen articles with their own ages."""
    lines = ["Related Articles"]
    for n in range(1, 13):
        lines += [
            "Russia Today",
            f"{n} hours ago",
            "- Russia Today",
            f"Item number {n} reports on the budget vote",
            f"Lawmakers met for the {n}th time this year to discuss the budget.",
            "",
        ]
    drafts = split_text_page(_page(*lines))
    assert [d.title for d in drafts] == [
        f"Item number {n} reports on the budget vote" for n in range(1, 13)
    ]
    assert [d.time_text for d in drafts] == [f"{n} hours ago" for n in range(1, 13)]
    assert all(d.source == "Russia Today" for d in drafts)


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_cr_pages_split_like_lf(newline: str) -> None:
    """CRLF and CR line ends give the same articles as LF."""
    lines = (
        "Russia and Ukraine exchange more POWs (VIDEO)",
        "Moscow and Kiev exchanged a third group of POWs on Thursday.",
        "DETAILS TO FOLLOW",
        "Related Articles",
        "",
        "Russia Today",
        "17 minutes ago",
        "- Russia Today",
        "Belarus releases 14 prisoners during visit of Trump's envoy",
        BELARUS,
    )
    expected = split_text_page(_page(*lines))
    assert split_text_page(_page(*lines, newline=newline)) == expected
    assert len(expected) == 2


def test_nbsp_and_stray_spaces_are_normalised_in_output() -> None:
    """NBSP, tabs and double spaces inside header, title and body come out as single spaces."""
    page = _page(
        "Russia\u00a0Today  ",
        "17\u00a0minutes\u202fago",
        "-\u00a0Russia Today",
        "Belarus  releases 14\u00a0prisoners\t",
        "Keith\u00a0Kellogg has  visited Belarus.\u200b",
    )
    assert split_text_page(page) == [
        ArticleDraft(
            title="Belarus releases 14 prisoners",
            body="Keith Kellogg has visited Belarus.",
            source="Russia Today",
            time_text="17 minutes ago",
        )
    ]


def test_curly_quotes_are_kept_verbatim() -> None:
    """Curly quotes and dashes in titles and bodies are emitted exactly as written."""
    page = _page(
        "Sky News · 3h",
        "Putin warns Kiev of ‘final mistake’",
        "“Our response will be very harsh,” Putin said – adding that Moscow had no evidence.",
    )
    [draft] = split_text_page(page)
    assert draft.title == "Putin warns Kiev of ‘final mistake’"
    assert draft.body.startswith("“Our response will be very harsh,” Putin said –")


@pytest.mark.parametrize(
    ("header", "source", "time_text"),
    [
        ("Russia Today · 4h", "Russia Today", "4h"),
        ("4h · Russia Today", "Russia Today", "4h"),
        ("Reuters | 2 hours ago", "Reuters", "2 hours ago"),
        ("By Reuters, 2 hours ago", "Reuters", "2 hours ago"),
        ("The Times of India, 51m", "The Times of India", "51m"),
        ("Sky News • Jun 21, 2025", "Sky News", "Jun 21, 2025"),
        ("June 21, 2025 - AP", "AP", "June 21, 2025"),
        ("Reuters 2 hours ago", "Reuters", "2 hours ago"),
    ],
)
def test_source_and_age_on_one_line(header: str, source: str, time_text: str) -> None:
    """A combined "publisher · age" line, in either order and with any separator, is split."""
    page = _page(
        "Related Articles",
        header,
        "Ex-Russian president issues nuclear warning to Kiev",
        NUCLEAR,
    )
    assert _rows(split_text_page(page)) == [
        ("Ex-Russian president issues nuclear warning to Kiev", source, time_text)
    ]


def test_age_before_source_with_and_without_dash_line() -> None:
    """An age line above the publisher line is read, with or without the "- publisher" line."""
    page = _page(
        "Related Articles",
        "4 hours ago",
        "Russia Today",
        "- Russia Today",
        "Ex-Russian president issues nuclear warning to Kiev",
        NUCLEAR,
        "",
        "8 hours ago",
        "Russia Today",
        "Zelensky reshuffles top brass to fix faltering draft",
        DRAFT,
    )
    assert _rows(split_text_page(page)) == [
        ("Ex-Russian president issues nuclear warning to Kiev", "Russia Today", "4 hours ago"),
        ("Zelensky reshuffles top brass to fix faltering draft", "Russia Today", "8 hours ago"),
    ]


def test_missing_dash_line_and_lower_case_publisher() -> None:
    """Without the "- publisher" line the line above the age is still the publisher."""
    page = _page(
        "Russia Today",
        "17 minutes ago",
        "Belarus releases 14 prisoners during visit of Trump's envoy",
        BELARUS,
        "n-tv",
        "gestern",
        "Bundestag beschließt Haushalt",
        "Der Bundestag hat den Haushalt für das kommende Jahr beschlossen.",
    )
    drafts = split_text_page(page)
    assert _rows(drafts) == [
        (
            "Belarus releases 14 prisoners during visit of Trump's envoy",
            "Russia Today",
            "17 minutes ago",
        ),
        ("Bundestag beschließt Haushalt", "n-tv", "gestern"),
    ]
    assert drafts[0].body == BELARUS


def test_item_without_age_keeps_its_publisher() -> None:
    """A "publisher / - publisher" header with no age gives the publisher and no time."""
    page = _page(
        "Related Articles",
        "Reuters",
        "- Reuters",
        "Oil prices slip as demand worries grow",
        "Oil prices fell on Tuesday as investors weighed weaker demand from China.",
    )
    assert _rows(split_text_page(page)) == [
        ("Oil prices slip as demand worries grow", "Reuters", None)
    ]


def test_title_above_its_header() -> None:
    """A title written above its "publisher · age" or publisher and age lines is still the title."""
    page = _page(
        "Ukraine and Russia agree on new grain corridor",
        "Reuters · 2h",
        "The deal allows ships to leave three Black Sea ports, officials said on Monday.",
        "Floods force thousands from homes in northern Italy",
        "ANSA",
        "3 hours ago",
        "Heavy rain caused rivers to burst their banks across Emilia-Romagna overnight.",
    )
    assert _rows(split_text_page(page)) == [
        ("Ukraine and Russia agree on new grain corridor", "Reuters", "2h"),
        ("Floods force thousands from homes in northern Italy", "ANSA", "3 hours ago"),
    ]


def test_multi_paragraph_items_keep_only_their_own_paragraphs() -> None:
    """Each item's body holds its paragraphs (blank lines between them or not), no more."""
    page = _page(
        "BBC News",
        "yesterday",
        "- BBC News",
        "Markets rally after rate decision",
        "Stocks rose sharply after the central bank held rates steady.",
        "",
        "Bond yields fell to their lowest level in a month.",
        "Analysts expect another pause in September.",
        "Advertisement",
        "The currency weakened slightly against the dollar.",
        "",
        "",
        "AP",
        "Jun 21, 2025",
        "- AP",
        "Heatwave grips southern Europe",
        "Temperatures topped 40C in parts of Spain and Portugal on Saturday.",
    )
    drafts = split_text_page(page)
    assert drafts[0].body.split("\n\n") == [
        "Stocks rose sharply after the central bank held rates steady.",
        "Bond yields fell to their lowest level in a month.",
        "Analysts expect another pause in September.",
        "The currency weakened slightly against the dollar.",
    ]
    assert drafts[1].body == "Temperatures topped 40C in parts of Spain and Portugal on Saturday."
    assert [d.time_text for d in drafts] == ["yesterday", "Jun 21, 2025"]


def test_trailing_footer_stays_out_of_the_last_body() -> None:
    """Footer widgets, notices and unlisted short lines after the last item are not its text."""
    page = _page(
        "Russia Today",
        "8 hours ago",
        "- Russia Today",
        "Zelensky reshuffles top brass to fix faltering draft",
        DRAFT,
        "Open in app",
        "",
        "Load more",
        "Sign up for our newsletter",
        "Get the top stories in your inbox every morning.",
        "© 2025 Daily8. All rights reserved.",
        "We use cookies to improve your experience. By using this site you accept our policy.",
    )
    [draft] = split_text_page(page)
    assert draft.body == DRAFT


def test_spanish_page() -> None:
    """A Spanish page with localized widgets and ages splits like an English one."""
    page = _page(
        "El Gobierno aprueba el nuevo plan de vivienda",
        "El Consejo de Ministros aprobó este martes un plan para construir 50.000 viviendas.",
        "Publicidad",
        "La ministra defendió que la medida «no tiene precedentes» en la última década.",
        "Comentarios",
        "Aún no hay comentarios",
        "Noticias relacionadas",
        "El País",
        "hace 17 minutos",
        "- El País",
        "La inflación se modera en mayo hasta el 2,1%",
        "El IPC bajó tres décimas en mayo por el abaratamiento de la electricidad.",
        "EFE · hace 2 horas",
        "El Real Madrid presenta a su nuevo entrenador",
        "El club presentó este lunes a su nuevo técnico en el estadio Santiago Bernabéu.",
        "Cargar más",
        "© 2025 Noticias Ya. Todos los derechos reservados.",
    )
    drafts = split_text_page(page)
    assert _rows(drafts) == [
        ("El Gobierno aprueba el nuevo plan de vivienda", None, None),
        ("La inflación se modera en mayo hasta el 2,1%", "El País", "hace 17 minutos"),
        ("El Real Madrid presenta a su nuevo entrenador", "EFE", "hace 2 horas"),
    ]
    assert drafts[0].body.count("\n\n") == 1


def test_german_page() -> None:
    """A German page with "vor 2 Stunden", "Anzeige" and "Ähnliche Artikel" splits cleanly."""
    page = _page(
        "Ähnliche Artikel",
        "Der Spiegel",
        "vor 2 Stunden",
        "- Der Spiegel",
        "Bahnstreik legt Fernverkehr lahm",
        "Die Gewerkschaft hat den Fernverkehr der Bahn am Mittwoch zum Erliegen gebracht.",
        "Anzeige",
        "Reisende müssen sich auf Ausfälle bis Freitag einstellen, teilte die Bahn mit.",
        "Kommentare",
        "Noch keine Kommentare",
        "Wir verwenden Cookies, um Ihnen ein besseres Nutzererlebnis zu bieten.",
    )
    [draft] = split_text_page(page)
    assert (draft.title, draft.source, draft.time_text) == (
        "Bahnstreik legt Fernverkehr lahm",
        "Der Spiegel",
        "vor 2 Stunden",
    )
    assert draft.body.count("\n\n") == 1
    assert "Anzeige" not in draft.body


def test_french_page() -> None:
    """A French page with "il y a 4 heures", "Publicité" and "Lire la suite" splits cleanly."""
    page = _page(
        "Articles similaires",
        "Le Monde",
        "il y a 4 heures",
        "Les agriculteurs bloquent l'autoroute A7",
        "Des centaines d'agriculteurs ont bloqué mardi l'autoroute A7 près de Lyon.",
        "Publicité",
        "Lire la suite",
        "France 24 | il y a 35 min",
        "Grève à la SNCF : le trafic perturbé jeudi",
        "La SNCF prévoit un train sur deux sur les lignes TGV jeudi, selon la direction.",
        "Partager cet article",
        "Inscrivez-vous à notre newsletter",
    )
    assert _rows(split_text_page(page)) == [
        ("Les agriculteurs bloquent l'autoroute A7", "Le Monde", "il y a 4 heures"),
        ("Grève à la SNCF : le trafic perturbé jeudi", "France 24", "il y a 35 min"),
    ]


def test_header_without_title_or_body_is_not_an_article() -> None:
    """A header followed by a widget, or a title with no paragraph, gives no article."""
    page = _page(
        "Trending now",
        "Fed holds rates",
        "3h",
        "Oil prices slip",
        "5h",
        "Comments",
        "John Smith",
        "This is long overdue, the targets should be even stronger than this.",
    )
    assert split_text_page(page) == []


def test_masthead_above_the_lead_is_not_its_publisher() -> None:
    """A site name above the lead title is the masthead: the lead keeps source None."""
    page = _page(
        "Daily8",
        "Thousands march in Belgrade against government",
        "Tens of thousands of people marched through Belgrade on Saturday.",
    )
    assert _rows(split_text_page(page)) == [
        ("Thousands march in Belgrade against government", None, None)
    ]


def test_masthead_after_navigation_is_not_the_lead_publisher() -> None:
    """Navigation lines before the masthead do not turn the site name into the lead's source."""
    page = _page(
        "Menu",
        "Home | World | Business | Sport",
        "Daily8",
        "Thousands march in Belgrade against government",
        "Tens of thousands of people marched through Belgrade on Saturday.",
    )
    assert _rows(split_text_page(page)) == [
        ("Thousands march in Belgrade against government", None, None)
    ]


def test_bylines_name_the_publisher_and_stay_out_of_text() -> None:
    """A "By Reuters" or "Source: AFP" credit gives the publisher and is neither title nor body."""
    page = _page(
        "Ukraine and Russia agree on new grain corridor",
        "By Reuters",
        "The deal allows ships to leave three Black Sea ports, officials said on Monday.",
        "Source: AFP",
        "Related Articles",
        "Floods hit northern Italy again",
        "By ANSA",
        "3 hours ago",
        "Heavy rain caused rivers to burst their banks across Emilia-Romagna overnight.",
    )
    drafts = split_text_page(page)
    assert _rows(drafts) == [
        ("Ukraine and Russia agree on new grain corridor", "Reuters", None),
        ("Floods hit northern Italy again", "ANSA", "3 hours ago"),
    ]
    assert drafts[0].body == (
        "The deal allows ships to leave three Black Sea ports, officials said on Monday."
    )


def test_bracketed_age_gives_the_bare_time() -> None:
    """An age in brackets is a time line; time_text is the age without the brackets."""
    page = _page("Russia Today", "(17 minutes ago)", "Belarus releases 14 prisoners", BELARUS)
    assert _rows(split_text_page(page)) == [
        ("Belarus releases 14 prisoners", "Russia Today", "17 minutes ago")
    ]


def test_unlisted_short_widgets_and_bullets_stay_out_of_bodies() -> None:
    """Short lines without a sentence end in or after a body, and stray bullets, are dropped."""
    page = _page(
        "Russia Today",
        "17 minutes ago",
        "- Russia Today",
        "Belarus releases 14 prisoners",
        BELARUS,
        "In case you missed it",
        "The talks lasted for six and a half hours, according to Minsk.",
        "- Podcast",
        "4 hours ago",
        "Russia Today",
        "Ex-Russian president issues nuclear warning to Kiev",
        NUCLEAR,
        "Our Picks",
    )
    drafts = split_text_page(page)
    assert _rows(drafts) == [
        ("Belarus releases 14 prisoners", "Russia Today", "17 minutes ago"),
        ("Ex-Russian president issues nuclear warning to Kiev", "Russia Today", "4 hours ago"),
    ]
    assert (
        drafts[0].body
        == BELARUS + "\n\nThe talks lasted for six and a half hours, according to Minsk."
    )
    assert drafts[1].body == NUCLEAR


def test_russian_and_italian_pages() -> None:
    """Widgets and ages in Russian and Italian are read like English ones."""
    russian = _page(
        "Похожие статьи",
        "RT",
        "17 минут назад",
        "- RT",
        "Россия и Украина обменялись пленными",
        "Москва и Киев в четверг обменялись очередной группой военнопленных.",
        "Реклама",
        "Комментарии",
    )
    italian = _page(
        "Articoli correlati",
        "Corriere della Sera · ieri",
        "Incendio vicino ad Atene sotto controllo",
        "I vigili del fuoco hanno spento l'incendio dopo due giorni di lavoro.",
        "Pubblicità",
        "I più letti",
    )
    assert _rows(split_text_page(russian)) == [
        ("Россия и Украина обменялись пленными", "RT", "17 минут назад")
    ]
    assert _rows(split_text_page(italian)) == [
        ("Incendio vicino ad Atene sotto controllo", "Corriere della Sera", "ieri")
    ]


def _score(pages: list[GeneratedPage]) -> dict[str, float]:
    expected = found = matched = bodies = sources = times = 0
    for page in pages:
        drafts = split_text_page(str(page.page["body"]))
        expected += len(page.articles)
        found += len(drafts)
        start = 0
        for article in page.articles:
            hit = next(
                (i for i in range(start, len(drafts)) if drafts[i].title == article.title), None
            )
            if hit is None:
                continue
            draft, start = drafts[hit], hit + 1
            matched += 1
            bodies += draft.body == article.body
            sources += draft.source == article.source
            times += draft.time_text == article.time_text
    return {
        "recall": matched / expected,
        "precision": matched / found,
        "body": bodies / matched,
        "source": sources / matched,
        "time_text": times / matched,
    }


def test_corpus_split_accuracy() -> None:
    """On 300 generated pages, split recall and precision reach 0.98 and bodies match 95%."""
    score = _score(generate_pages(300, seed=11))
    figures = ", ".join(f"{name}={value:.4f}" for name, value in score.items())
    assert score["recall"] >= 0.98, figures
    assert score["precision"] >= 0.98, figures
    assert score["body"] >= 0.95, figures
    assert score["source"] >= 0.95, figures
    assert score["time_text"] >= 0.95, figures


_LINES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "",
            "Russia Today",
            "17 minutes ago",
            "- Russia Today",
            "Reuters · 4h",
            "Related Articles",
            "Advertisement",
            "Comments",
            "yesterday",
            "hace 2 horas",
            "Belarus releases 14 prisoners",
            "The talks lasted for six and a half hours, according to Minsk.",
            "- ",
            "·",
        ]
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_LINES, max_size=25), st.sampled_from(["\n", "\r\n", "\r"]))
def test_arbitrary_pages_give_clean_drafts(lines: list[str], newline: str) -> None:
    """Any text splits without error into drafts with a title and no boilerplate line."""
    for draft in split_text_page(newline.join(lines)):
        assert draft.title
        assert "\n" not in draft.title
        assert not is_boilerplate_line(draft.title)
        for paragraph in draft.body.split("\n\n"):
            assert paragraph
            assert not is_boilerplate_line(paragraph)


@given(st.text())
def test_arbitrary_text_never_raises(text: str) -> None:
    """Arbitrary text (any characters) never makes the splitter raise."""
    drafts: list[Any] = split_text_page(text)
    assert all(d.title for d in drafts)
