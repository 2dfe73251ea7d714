"""Tests for the boilerplate lexicon: widget lines are caught, article text is left alone."""

from __future__ import annotations

import pytest

from services.enrich.boilerplate import BoilerplateKind, boilerplate_kind, is_boilerplate_line

SECTION_LINES = [
    # English, as aggregators write them.
    "DETAILS TO FOLLOW",
    "Hashtags",
    "Try Our AI Features",
    "Explore what Daily8 AI can do for you:",
    "Explore what NewsHub AI can do for you:",
    "Comments",
    "No comments yet...",
    "Comments (12)",
    "24 Comments",
    "Related Articles",
    "Related stories",
    "You may also like",
    "Trending now",
    "Most read",
    "Load more",
    "Sign up for our newsletter",
    "Get the top stories in your inbox every morning.",
    "© 2025 Daily8. All rights reserved.",
    "Copyright 2025 NewsHub Ltd",
    "Copyright © Reuters",
    "Copyright The Associated Press",
    "Like us on Facebook",
    "Newsletter: subscribe to get the top stories every morning",
    "We use cookies to improve your experience. By using this site you accept our Cookie Policy.",
    "Privacy Policy | Terms of Use | Contact Us",
    "Home › World › Europe",
    "Skip to content",
    "Follow us on Telegram",
    "Download the Daily8 app",
    "More from Daily8",
    "Tags: Ukraine, Russia",
    "#Ukraine #Politics",
    # Other languages.
    "Noticias relacionadas",
    "Aún no hay comentarios",
    "Lo más leído",
    "Suscríbete a nuestro boletín",
    "© 2025 Noticias Ya. Todos los derechos reservados.",
    "Utilizamos cookies propias y de terceros para mejorar nuestros servicios.",
    "Ähnliche Artikel",
    "Noch keine Kommentare",
    "Das könnte Sie auch interessieren",
    "Wir verwenden Cookies, um Ihnen ein besseres Nutzererlebnis zu bieten.",
    "Articles similaires",
    "Aucun commentaire",
    "Inscrivez-vous à notre newsletter",
    "Mots-clés : grève, SNCF",
    "Nous utilisons des cookies pour améliorer votre expérience sur notre site.",
    "Articoli correlati",
    "Читайте также",
]

INLINE_LINES = [
    "Advertisement",
    "ADVERTISEMENT",
    "Read more",
    "Read more »",
    "Read more: Kiev tightens conscription laws",
    "Share this article",
    "Story continues below advertisement",
    "Photo: Reuters",
    "5 min read",
    "* * *",
    "———",
    "Publicidad",
    "Leer más",
    "Anzeige",
    "Weiterlesen",
    "Publicité",
    "Lire la suite",
    "Реклама",
]

ARTICLE_LINES = [
    "Russia and Ukraine exchange more POWs (VIDEO)",
    "Belarus releases 14 prisoners during visit of Trump's envoy",
    "Comments by the minister sparked outrage in parliament on Friday.",
    "Share prices tumble after the rate decision",
    "More than 100 dead as floods hit Emilia-Romagna",
    "Latest on the Ukraine war",
    "Home secretary resigns over migration row",
    "The bakery uses butter in its cookies, the owner said.",
    "Menu prices rise in Paris restaurants",
    "Follow the money: how the scheme worked",
    "The Defense Ministry released a video showing the freed servicemen.",
    "Russia Today",
    "17 minutes ago",
    "La inflación se modera en mayo hasta el 2,1%",
    "Bahnstreik legt Fernverkehr lahm",
    "Grève à la SNCF : le trafic perturbé jeudi",
    # Sentences that use a widget's words as news.
    "Google said on Monday it would no longer phase out third-party cookies in its Chrome"
    " browser, reversing a plan it announced in 2020.",
    "Copyright holders will be able to demand payment from AI firms under the 2025 law.",
    "Like our neighbours in France, we must build more homes, the minister said.",
    "Her newsletter now has more than 100,000 paying subscribers.",
    "Subscribers to the newsletter were told of the merger on Friday.",
]


@pytest.mark.parametrize("line", SECTION_LINES)
def test_section_widgets_open_a_new_part(line: str) -> None:
    """Section widgets (related lists, comments, footers, notices, menus) are SECTION lines."""
    assert boilerplate_kind(line) is BoilerplateKind.SECTION


@pytest.mark.parametrize("line", INLINE_LINES)
def test_inline_widgets_are_inline(line: str) -> None:
    """Ads, read-more links, share bars, credits and separators are INLINE lines."""
    assert boilerplate_kind(line) is BoilerplateKind.INLINE


@pytest.mark.parametrize("line", ARTICLE_LINES)
def test_article_text_is_not_boilerplate(line: str) -> None:
    """Headlines and sentences that merely mention widget words are article text."""
    assert not is_boilerplate_line(line)


def test_curly_apostrophes_match_the_lexicon() -> None:
    """A curly apostrophe in a widget label matches the straight one in the table."""
    assert is_boilerplate_line("Don’t miss")
    assert is_boilerplate_line("Editor’s picks")


def test_a_long_paragraph_is_never_boilerplate() -> None:
    """Paragraph-length text is left alone even when it mentions cookies and copyright."""
    line = " ".join(["The court heard that the copyright on the cookie recipe"] * 10) + "."
    assert not is_boilerplate_line(line)


def test_empty_line_is_not_boilerplate() -> None:
    """An empty line has no kind."""
    assert boilerplate_kind("") is None
