"""Tests of extract_html: composed news pages in nine languages, metadata variants, rejections."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import DeadLetterReason, PublishedAtSource
from services.enrich.draft import ArticleDraft
from services.enrich.errors import PageRejected
from services.enrich.html import extract_html

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "html"


@dataclass(frozen=True)
class Page:
    """A composed page and what extract_html must read from it."""

    file: str
    url: str | None
    title: str
    first: str
    last: str
    absent: tuple[str, ...]
    published_at: datetime | None
    published_source: PublishedAtSource | None
    language: str | None
    source: str | None
    article_url: str | None


META = PublishedAtSource.HTML_METADATA

PAGES = [
    Page(
        file="en_harbour_published_time.html",
        url="https://www.harbourtimes.co.uk/news/council-approves-harbour-dredging-plan-4471?utm_source=rss",
        title="Council approves £48m harbour dredging plan despite fishermen's objections",
        first="Councillors voted 31 to 12 in favour of deepening the main shipping channel",
        last="will be published on the council's website on Monday.",
        absent=(
            "We use cookies",
            "Accept all",
            "Weather and tides",
            "Share on Facebook",
            "Copy link",
            "Related stories",
            "Inshore fleet celebrates record crab season",
            "Absolute disgrace",
            "Join the conversation",
            "morning briefing",
            "Advertisement",
            "All rights reserved",
            "By Margaret Ellison",
            "Photograph: Harbour Times",
        ),
        published_at=datetime(2025, 6, 21, 8, 15, tzinfo=UTC),
        published_source=META,
        language="en",
        source="The Harbour Times",
        article_url="https://www.harbourtimes.co.uk/news/council-approves-harbour-dredging-plan-4471",
    ),
    Page(
        file="en_desertsun_large.html",
        url=None,
        title="Western grid sets demand record as heatwave pushes operators to the brink",
        first="Electricity demand across the Western Interconnection hit an all-time high",
        last="should avoid strenuous activity outdoors during the day.",
        absent=(
            "Accept All Cookies",
            "Skip to main content",
            "Obituaries",
            "Trending:",
            "Post on X",
            "Read more:",
            "Energy & Climate newsletter",
            "Advertisement",
            "More from Energy",
            "Phoenix sets new record for consecutive days",
            "The batteries did great",
            "community guidelines",
            "User Agreement",
            "Published 4:40 p.m.",
        ),
        published_at=datetime(2025, 6, 24, 23, 40, tzinfo=UTC),
        published_source=META,
        language="en",
        source="Desert Sun Daily",
        article_url="https://www.desertsundaily.com/news/energy/western-grid-demand-record-heatwave",
    ),
    Page(
        file="en_gazette_prefix_no_date.html",
        url=None,
        title="Library to stay open until 10pm during exam season",
        first="The Northfield Public Library will extend its weekday opening hours",
        last="permanent during future exam seasons.",
        absent=(
            "Front Page",
            "Letters to the Editor",
            "uses cookies",
            "Got it!",
            "Print this story",
            "More local stories",
            "Farmers market returns",
            "Copyright",
            "Staff Writer",
        ),
        published_at=None,
        published_source=None,
        language=None,
        source="Northfield Gazette",
        article_url=None,
    ),
    Page(
        file="de_rheinpost_jsonld.html",
        url="https://www.rheinpost.de/bonn/wirtschaft/stadtwerke-erhoehen-fernwaermepreise-id68817.html",
        title="Stadtwerke erhöhen Fernwärmepreise um 18 Prozent",
        first="Für rund 42.000 Haushalte in Bonn und im Rhein-Sieg-Kreis",
        last="an die Kundschaft weitergeben, versprach er.",
        absent=(
            "Wir verwenden Cookies",
            "Jetzt abonnieren",
            "Auf Facebook teilen",
            "Das könnte Sie auch interessieren",
            "Strompreise sinken",
            "Kommentare",
            "Jedes Jahr das gleiche Spiel",
            "Meistgelesen",
            "Impressum",
            "Lesezeit",
        ),
        published_at=datetime(2025, 3, 14, 7, 30, tzinfo=UTC),
        published_source=META,
        language="de",
        source="Rheinpost",
        article_url="https://www.rheinpost.de/bonn/wirtschaft/stadtwerke-erhoehen-fernwaermepreise-id68817.html",
    ),
    Page(
        file="es_diariodelsur_time_only.html",
        url="https://www.diariodelsur.com.ar/ciudad/puente-ferroviario-naposta",
        title="Bahía Blanca inaugura el nuevo puente ferroviario sobre el arroyo Napostá",
        first="Después de dos años de obras y varias postergaciones",
        last="una obra que se licitará en el segundo semestre.",
        absent=(
            "utiliza cookies",
            "Último momento",
            "Clasificados",
            "Compartir en WhatsApp",
            "Notas relacionadas",
            "Récord de exportaciones",
            "paso a nivel de calle Brown",
            "Todos los derechos reservados",
            "Por Lucía Ferreyra",
        ),
        published_at=datetime(2025, 5, 2, 20, 45, tzinfo=UTC),
        published_source=META,
        language="es",
        source="Diario del Sur",
        article_url="https://www.diariodelsur.com.ar/ciudad/puente-ferroviario-naposta",
    ),
    Page(
        file="fr_courrierdulac_url_date.html",
        url="https://www.lecourrierdulac.fr/actualites/2025/04/18/annecy-baignade-interdite",
        title=(
            "Annecy : la baignade interdite sur trois plages après une pollution aux hydrocarbures"
        ),
        first="La préfecture de la Haute-Savoie a interdit jeudi matin la baignade",
        last="conformes aux normes sanitaires.",
        absent=(
            "utilisons des cookies",
            "Continuer sans accepter",
            "Petites annonces",
            "Partager sur Facebook",
            "À lire aussi",
            "niveau le plus bas",
            "plaisancier irresponsable",
            "Mentions légales",
            "Publié le 18 avril",
        ),
        published_at=datetime(2025, 4, 18, tzinfo=UTC),
        published_source=PublishedAtSource.URL,
        language="fr",
        source="Le Courrier du Lac",
        article_url="https://www.lecourrierdulac.fr/actualites/2025/04/18/annecy-baignade-interdite",
    ),
    Page(
        file="ru_vechernii_published_time.html",
        url=None,
        title="В Новосибирске открыли новую станцию метро «Спортивная»",
        first="В Новосибирске в понедельник открылась станция метро «Спортивная»",
        last="перехватывающую парковку на двести машин.",
        absent=(
            "файлы cookie",
            "Афиша",
            "Поделиться",
            "ВКонтакте",
            "Читайте также",
            "Проезд в метро подорожает",
            "Пятнадцать лет строили",
            "Все права защищены",
            "10 февраля 2025, 14:05",
        ),
        published_at=datetime(2025, 2, 10, 11, 5, tzinfo=UTC),
        published_source=META,
        language="ru",
        source="Вечерний Новосибирск",
        article_url="https://vn-news.ru/news/2025/02/10/sportivnaya/",
    ),
    Page(
        file="zh_jiangnan_jsonld_graph.html",
        url="https://www.jiangnandaily.cn/city/20250120/88231.html",
        title="杭州地铁19号线西延段今日开通 市民可直达西湖景区",
        first="今天上午九时，杭州地铁19号线西延段正式开通运营。",
        last="届时全市地铁运营里程将超过六百公里。",
        absent=(
            "Cookie",
            "数字报",
            "分享到",
            "相关新闻",
            "票价调整",
            "网友评论",
            "上班方便",
            "热点排行",
            "版权所有",
            "责任编辑",
        ),
        published_at=datetime(2025, 1, 20, 1, 0, tzinfo=UTC),
        published_source=META,
        language="zh",
        source="江南日报",
        article_url="https://www.jiangnandaily.cn/city/20250120/88231.html",
    ),
    Page(
        file="ja_minato_time_element.html",
        url=None,
        title="横浜港に過去最大のクルーズ船が初入港",
        first="全長三百六十メートルを超える大型クルーズ船が三日早朝",
        last="次の寄港地である神戸港に向かう。",
        absent=(
            "Cookie",
            "スポーツ",
            "本日",
            "Xでポスト",
            "関連記事",
            "取扱貨物量",
            "コメント",
            "混雑が心配",
            "会社概要",
        ),
        published_at=datetime(2025, 6, 2, 21, 30, tzinfo=UTC),
        published_source=META,
        language="ja",
        source="みなと新聞",
        article_url=None,
    ),
    Page(
        file="ar_khaleej_meta_date.html",
        url="https://www.alkhaleejalyoum.com/local/desalination-solar",
        title="افتتاح أكبر محطة لتحلية المياه بالطاقة الشمسية في المنطقة",
        first="افتتحت صباح اليوم الأحد أكبر محطة لتحلية مياه البحر",
        last="على أن تصل إلى طاقتها الكاملة قبل حلول فصل الصيف.",
        absent=(
            "ملفات تعريف الارتباط",
            "مقالات الرأي",
            "شارك:",
            "فيسبوك",
            "أخبار ذات صلة",
            "التعليقات",
            "مشروع رائع",
            "جميع الحقوق محفوظة",
            "كتبت",
        ),
        published_at=datetime(2025, 3, 30, 11, 20, tzinfo=UTC),
        published_source=META,
        language="ar",
        source="الخليج اليوم",
        article_url="https://www.alkhaleejalyoum.com/local/desalination-solar",
    ),
    Page(
        file="th_khaonuea_no_date.html",
        url=None,
        title="เชียงใหม่เปิดเส้นทางจักรยานรอบคูเมืองยาว 6 กิโลเมตร",
        first="เทศบาลนครเชียงใหม่เปิดใช้เส้นทางจักรยานรอบคูเมืองอย่างเป็นทางการ",
        last="บริเวณมหาวิทยาลัยเชียงใหม่ต่อไป",
        absent=(
            "คุกกี้",
            "หน้าแรก",
            "แชร์ข่าวนี้",
            "ข่าวที่เกี่ยวข้อง",
            "ค่าฝุ่น",
            "ความคิดเห็น",
            "อยากให้มีทุกเมือง",
            "สงวนลิขสิทธิ์",
        ),
        published_at=None,
        published_source=None,
        language="th",
        source=None,
        article_url=None,
    ),
]


def _read(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def drafts() -> dict[str, ArticleDraft]:
    """Every composed page extracted once."""
    return {page.file: extract_html(_read(page.file), page.url) for page in PAGES}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.file)
def test_title_is_the_undecorated_headline(page: Page, drafts: dict[str, ArticleDraft]) -> None:
    """The title is the headline without the site name around it."""
    assert drafts[page.file].title == page.title


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.file)
def test_body_is_the_article_text_only(page: Page, drafts: dict[str, ArticleDraft]) -> None:
    """The body runs from the article's first sentence to its last, without page boilerplate."""
    body = drafts[page.file].body
    assert body.startswith(page.first)
    assert body.endswith(page.last)
    assert [text for text in page.absent if text in body] == []
    assert page.title not in body


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.file)
def test_body_paragraphs_are_normalised(page: Page, drafts: dict[str, ArticleDraft]) -> None:
    """Paragraphs are separated by one blank line and carry no stray whitespace."""
    paragraphs = drafts[page.file].body.split("\n\n")
    assert len(paragraphs) >= 5
    assert all(p and p == " ".join(p.split()) for p in paragraphs)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.file)
def test_publication_time_and_its_source(page: Page, drafts: dict[str, ArticleDraft]) -> None:
    """The publication time is read in UTC from the most trusted source the page has."""
    draft = drafts[page.file]
    assert draft.published_at == page.published_at
    assert draft.published_at_source == page.published_source
    if page.published_at is not None:
        assert draft.published_at is not None
        assert draft.published_at.utcoffset() == timedelta(0)
        assert draft.time_text
    else:
        assert draft.time_text is None


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.file)
def test_language_source_and_url(page: Page, drafts: dict[str, ArticleDraft]) -> None:
    """Declared language, named publisher and canonical address come from the page."""
    draft = drafts[page.file]
    assert draft.language == page.language
    assert draft.source == page.source
    assert draft.url == page.article_url


ARTICLE = (
    "<p>The regional transport authority confirmed on Monday that the night bus network "
    "will be extended to the airport from September, after a year-long trial.</p>"
    "<p>Officials said ridership on the trial route had exceeded forecasts by a third, "
    "and that the extension would be paid for from the existing operating budget.</p>"
    "<p>Unions welcomed the decision but asked for more staff on late-night services.</p>"
)


def _page(head: str = "", body_top: str = "", html_attrs: str = "") -> str:
    return (
        f"<!DOCTYPE html><html{html_attrs}><head><meta charset='utf-8'>{head}</head><body>"
        f"<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>{body_top}"
        f"<article><h1>Night buses to reach the airport</h1>{ARTICLE}</article></body></html>"
    )


def _ld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


@pytest.mark.parametrize(
    ("head", "url", "expected", "how"),
    [
        (
            "<meta name='DC.date.issued' content='2025-02-01T10:00:00-05:00'>",
            None,
            datetime(2025, 2, 1, 15, tzinfo=UTC),
            META,
        ),
        (
            "<meta name='pubdate' content='2025-02-01'>",
            None,
            datetime(2025, 2, 1, tzinfo=UTC),
            META,
        ),
        (
            "<meta property='article:published_time' content='2025-02-01T10:00:00'>",
            None,
            datetime(2025, 2, 1, 10, tzinfo=UTC),
            META,
        ),
        (
            "<meta name='date' content='Sat, 01 Feb 2025 10:00:00 GMT'>",
            None,
            datetime(2025, 2, 1, 10, tzinfo=UTC),
            META,
        ),
        (
            _ld([{"@type": "NewsArticle", "datePublished": "2025-02-01"}]),
            None,
            datetime(2025, 2, 1, tzinfo=UTC),
            META,
        ),
        (
            "<meta property='article:published_time' content='2025-02-02T08:00:00+01:00'>"
            + _ld({"@type": "NewsArticle", "datePublished": "2025-01-30T08:00:00Z"}),
            None,
            datetime(2025, 2, 2, 7, tzinfo=UTC),
            META,
        ),
        (
            "<meta property='article:published_time' content='not a date'>"
            + _ld({"@type": "NewsArticle", "datePublished": "2025-01-30T08:00:00Z"}),
            None,
            datetime(2025, 1, 30, 8, tzinfo=UTC),
            META,
        ),
        (
            "<meta name='date' content='0001-01-01T00:00:00'>",
            "https://news.example.org/2024/12/31/night-buses",
            datetime(2024, 12, 31, tzinfo=UTC),
            PublishedAtSource.URL,
        ),
        (
            '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": '
            '"2025-01-01",}</script>'
            + _ld({"@type": "NewsArticle", "datePublished": "2025-01-31T23:00:00-02:00"}),
            None,
            datetime(2025, 2, 1, 1, tzinfo=UTC),
            META,
        ),
        ("", "https://news.example.org/world/night-buses-1234", None, None),
    ],
    ids=[
        "dc-date-offset",
        "pubdate-date-only",
        "naive-meta",
        "rfc2822-meta",
        "jsonld-date-only",
        "meta-beats-jsonld",
        "unparseable-meta-falls-through",
        "placeholder-then-url",
        "broken-jsonld-skipped",
        "none",
    ],
)
def test_publication_time_variants(
    head: str, url: str | None, expected: datetime | None, how: PublishedAtSource | None
) -> None:
    """Each metadata form gives the stated instant in UTC, in the documented order of trust."""
    draft = extract_html(_page(head), url)
    assert draft.published_at == expected
    assert draft.published_at_source == how


def test_time_element_in_article_beats_times_in_page_chrome() -> None:
    """A <time> in the article wins over 'today's date' in the header and times of other stories."""
    top = (
        "<header><time datetime='2025-03-05'>Wednesday</time></header>"
        "<aside><time datetime='2025-03-04T09:00:00Z'>Other story</time></aside>"
    )
    html = _page(body_top=top).replace(
        "<h1>", "<p class='when'><time datetime='2025-03-03T18:30:00+02:00'>3 March</time></p><h1>"
    )
    assert extract_html(html, None).published_at == datetime(2025, 3, 3, 16, 30, tzinfo=UTC)


def test_the_time_in_the_article_header_beats_a_related_story_in_main() -> None:
    """<main><article><header>...<time> is the article's dateline; a later <section> of other
    stories in <main> does not replace it."""
    html = (
        "<html><body><header><time datetime='2025-06-21'>Saturday</time></header><main>"
        f"<article><header><h1>Night buses to reach the airport</h1>"
        "<time datetime='2025-06-21T09:00:00+01:00'>21 June, 9am</time></header>"
        f"{ARTICLE}</article><section><h2>More news</h2><a href='/a'>Dredging plan approved</a>"
        " <time datetime='2025-06-18T10:00:00+01:00'>18 June</time></section></main></body></html>"
    )
    assert extract_html(html, None).published_at == datetime(2025, 6, 21, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("head", "url", "expected"),
    [
        (
            "<meta property='og:title' content='Night buses to reach the airport | Metro Courier'>"
            "<meta property='og:site_name' content='Metro Courier'>",
            None,
            "Night buses to reach the airport",
        ),
        (
            "<meta property='og:title' content='Metro Courier: Night buses to reach the airport'>",
            None,
            "Night buses to reach the airport",
        ),
        (
            "<title>Night buses to reach the airport — Metro Courier</title>",
            None,
            "Night buses to reach the airport",
        ),
        (
            "<meta property='og:title' content='Night buses to reach the airport - metrocourier'>",
            "https://www.metrocourier.com/transport/night-buses",
            "Night buses to reach the airport",
        ),
        (
            "<meta property='og:title' content='Self-driving night buses - tested'>",
            None,
            "Self-driving night buses - tested",
        ),
        (
            _ld({"@type": "NewsArticle", "headline": "Airport gets night buses"}),
            None,
            "Airport gets night buses",
        ),
    ],
    ids=["og-suffix-site", "og-prefix-h1", "title-dash-h1", "host-suffix", "real-dash", "jsonld"],
)
def test_title_variants(head: str, url: str | None, expected: str) -> None:
    """The headline is taken from og:title, JSON-LD or <h1>, and only the site name is cut."""
    assert extract_html(_page(head), url).title == expected


def test_title_from_title_element_when_no_headline_elsewhere() -> None:
    """Without og:title, JSON-LD or <h1>, the <title> gives the headline minus the site name."""
    html = (
        "<html><head><title>Metro Courier | Night buses to reach the airport</title>"
        "<meta property='og:site_name' content='Metro Courier'></head>"
        f"<body><div class='story'>{ARTICLE}</div></body></html>"
    )
    draft = extract_html(html, None)
    assert draft.title == "Night buses to reach the airport"
    assert draft.source == "Metro Courier"


@pytest.mark.parametrize(
    ("head", "html_attrs", "expected"),
    [
        ("", " lang='pt-BR'", "pt"),
        ("<meta property='og:locale' content='de_AT'>", "", "de"),
        ("<meta http-equiv='content-language' content='fr-CA, en'>", "", "fr"),
        ("", " xml:lang='zh-Hant-TW'", "zh"),
        ("", " lang='x-default'", None),
        ("", "", None),
    ],
)
def test_declared_language(head: str, html_attrs: str, expected: str | None) -> None:
    """The declared language tag is reduced to its ISO 639-1 code."""
    assert extract_html(_page(head, html_attrs=html_attrs), None).language == expected


def test_relative_canonical_resolves_against_the_page_url() -> None:
    """A relative canonical link becomes absolute; a non-http one is ignored."""
    relative = _page("<link rel='canonical' href='/transport/night-buses'>")
    assert (
        extract_html(relative, "https://metrocourier.com/x?utm=1").url
        == "https://metrocourier.com/transport/night-buses"
    )
    scripted = _page("<link rel='canonical' href='javascript:void(0)'>")
    assert extract_html(scripted, "https://metrocourier.com/a").url == "https://metrocourier.com/a"


def test_jsonld_publisher_names_the_source() -> None:
    """Without og:site_name the JSON-LD publisher, even by @id reference, is the source."""
    head = _ld(
        {
            "@graph": [
                {"@type": "NewsArticle", "publisher": {"@id": "#org"}},
                {"@type": "NewsMediaOrganization", "@id": "#org", "name": "Metro  Courier"},
            ]
        }
    )
    assert extract_html(_page(head), None).source == "Metro Courier"
    assert extract_html(_page(), None).source is None


def test_page_opening_with_bom_and_comment_keeps_its_declarations() -> None:
    """A BOM or a comment before <html> does not lose the page's lang or its metadata."""
    html = "\ufeff<!-- rendered by cms -->\n" + _page(
        "<meta property='og:site_name' content='Metro Courier'>", html_attrs=" lang='nl'"
    ).removeprefix("<!DOCTYPE html>")
    draft = extract_html(html, None)
    assert draft.language == "nl"
    assert draft.source == "Metro Courier"
    assert draft.title == "Night buses to reach the airport"


def test_xhtml_with_xml_prolog_is_read() -> None:
    """An XHTML page with an <?xml?> encoding declaration parses like any other page."""
    html = '<?xml version="1.0" encoding="utf-8"?>\n' + _page(
        html_attrs=" xmlns='http://www.w3.org/1999/xhtml' xml:lang='de'"
    ).removeprefix("<!DOCTYPE html>")
    draft = extract_html(html, None)
    assert draft.language == "de"
    assert draft.body.startswith("The regional transport authority confirmed")


@pytest.mark.parametrize("depth", [300, 2000])
def test_article_nested_deep_in_unclosed_elements_is_read(depth: int) -> None:
    """Past 256 open elements (unclosed <div>s) the article is still read, not dropped."""
    html = _page().replace("<body>", "<body>" + "<div>" * depth, 1)
    assert html.count("<div>") >= depth
    draft = extract_html(html, None)
    assert draft.title == "Night buses to reach the airport"
    assert draft.body.startswith("The regional transport authority confirmed")


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x0b", "\x0c", "\x1c"])
def test_control_characters_in_the_page_neither_lose_it_nor_reach_the_article(char: str) -> None:
    """A stray control character in the headline and the text gives the article without it
    (bell, escape and vertical tab used to make the extractor drop the whole page)."""
    clean = extract_html(_page(), None)
    html = (
        _page()
        .replace("Night buses", f"Night{char} buses")
        .replace("regional transport", f"regional {char}transport")
    )
    draft = extract_html(html, None)
    assert (draft.title, draft.body) == (clean.title, clean.body)


def test_soft_hyphens_and_zero_width_spaces_in_the_headline_leave_title_and_body_clean() -> None:
    """A headline written "Night bus&shy;es to reach the air&#8203;port" gives the clean title,
    and the headline is not repeated at the top of the body."""
    clean = extract_html(_page(), None)
    html = _page().replace(
        "Night buses to reach the airport", "Night bus&shy;es to reach the air&#8203;port"
    )
    html = html.replace("<head>", "<head><title>Night bus&shy;es to reach the airport</title>", 1)
    draft = extract_html(html, None)
    assert draft.title == "Night buses to reach the airport"
    assert draft.body == clean.body


def test_widget_lines_the_extractor_keeps_leave_the_body() -> None:
    """An ad label inside the article goes; a newsletter call and a copyright line after it
    end the body, as they end an article on a text page."""
    clean = extract_html(_page(), None)
    html = (
        _page()
        .replace("</p><p>Unions", "</p><p>Advertisement</p><p>Unions")
        .replace(
            "</article>",
            "<p>Sign up for our newsletter to get the top stories every morning.</p></article>"
            "<div><p>Copyright © 2025 Metro Courier. All rights reserved.</p></div>",
        )
    )
    assert extract_html(html, None).body == clean.body


@pytest.mark.parametrize("order", ["Island Herald | {}", "{} | Island Herald"])
def test_a_site_name_set_as_the_h1_logo_is_not_the_title(order: str) -> None:
    """<h1 class=logo>Island Herald</h1> over a story headed by an <h2> that the <title>
    pairs with the site name: the title is the <h2>'s headline, which leaves the body."""
    headline = "Night buses to reach the airport"
    html = (
        f"<html><head><title>{order.format(headline)}</title></head><body>"
        "<h1 class='logo'>Island Herald</h1>"
        f"<div class='story'><h2>{headline}</h2>{ARTICLE}</div></body></html>"
    )
    draft = extract_html(html, None)
    assert draft.title == headline
    assert draft.body.startswith("The regional transport authority confirmed")


def test_an_h1_headline_that_the_title_pairs_with_the_site_stays_the_title() -> None:
    """<title>Headline | Site</title> with the headline in <h1>: no <h2> says otherwise."""
    html = _page("<title>Night buses to reach the airport | Metro Courier</title>")
    assert extract_html(html, None).title == "Night buses to reach the airport"


def test_a_brief_with_a_dateline_keeps_its_paragraphs() -> None:
    """A news brief under 250 characters with a <time> dateline: its two paragraphs, not the
    headline, dateline and paragraphs run into one line."""
    html = (
        "<html><body><article><h1>Ferry strike ends</h1>"
        "<time datetime='2025-06-21T15:30:00+01:00'>21 June 2025, 3:30pm</time>"
        "<p>Ferry crews returned to work on Saturday after their union accepted a revised pay"
        " offer.</p><p>The first sailing left at 6am.</p></article></body></html>"
    )
    draft = extract_html(html, None)
    assert draft.title == "Ferry strike ends"
    assert draft.body == (
        "Ferry crews returned to work on Saturday after their union accepted a revised pay"
        " offer.\n\nThe first sailing left at 6am."
    )


def test_the_dateline_a_time_element_shows_does_not_open_the_body() -> None:
    """The extractor keeps the text of <time> ("2025年6月21日 15時30分") before the first paragraph;
    like the headline, it is not article text."""
    html = (
        "<html lang='ja'><head><title>東京で記録的な猛暑</title></head><body><article>"
        "<h1>東京で記録的な猛暑</h1><time datetime='2025-06-21T15:30:00+09:00'>"
        "2025年6月21日 15時30分</time>"
        "<p>東京都心では21日、最高気温が38度を超え、6月としては観測史上最高を記録した。</p>"
        "<p>熱中症の疑いで120人以上が救急搬送された。</p></article></body></html>"
    )
    assert extract_html(html, None).body == (
        "東京都心では21日、最高気温が38度を超え、6月としては観測史上最高を記録した。"
        "\n\n熱中症の疑いで120人以上が救急搬送された。"
    )


def test_html_fragment_is_read_as_a_page() -> None:
    """A bare article fragment without <html> is still extracted."""
    draft = extract_html(f"<div class='story'>{ARTICLE}</div>", None)
    assert draft.body.startswith("The regional transport authority confirmed")
    assert draft.title == ""


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("", DeadLetterReason.EMPTY_PAGE),
        (" \n\t ", DeadLetterReason.EMPTY_PAGE),
        ("Night buses will reach the airport from September.", DeadLetterReason.UNDECODABLE),
        ('{"title": "Night buses", "body": "..."}', DeadLetterReason.UNDECODABLE),
        ("\x00\x01\x02 binary \xff\xfe", DeadLetterReason.UNDECODABLE),
        ("<html><body><div> </div><p></p></body></html>", DeadLetterReason.EMPTY_PAGE),
        ("<!-- nothing here -->", DeadLetterReason.EMPTY_PAGE),
        (
            "<html><head><title>x</title><script>var a = 'text';</script></head>"
            "<body></body></html>",
            DeadLetterReason.EMPTY_PAGE,
        ),
        (
            "<html><body><nav><a href='/'>Home</a> <a href='/news'>News</a> "
            "<a href='/sport'>Sport</a></nav><footer>Contact</footer></body></html>",
            DeadLetterReason.NO_ARTICLES,
        ),
    ],
    ids=[
        "empty",
        "blank",
        "plain-text",
        "json",
        "binary",
        "no-text",
        "comment-only",
        "script-only",
        "nav-only",
    ],
)
def test_rejections(html: str, reason: DeadLetterReason) -> None:
    """Input that cannot yield an article is rejected with the matching dead-letter reason."""
    with pytest.raises(PageRejected) as caught:
        extract_html(html, None)
    assert caught.value.reason is reason
    assert caught.value.message


def _check(html: str) -> None:
    try:
        draft = extract_html(html, "https://news.example.org/2025/01/02/x")
    except PageRejected:
        return
    assert draft.body
    assert draft.published_at is None or draft.published_at.utcoffset() is not None
    assert draft.language is None or (len(draft.language) == 2 and draft.language.islower())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_arbitrary_text_only_raises_page_rejected(text: str) -> None:
    """Any text at all gives a draft or a PageRejected, never another exception."""
    _check(text)


_TAGS = [
    "html",
    "head",
    "body",
    "div",
    "p",
    "span",
    "article",
    "main",
    "nav",
    "h1",
    "time",
    "meta",
    "script",
    "style",
    "title",
    "table",
    "td",
    "ul",
    "li",
    "a",
    "br",
    "footer",
]
_ATTRS = st.sampled_from(
    [
        "",
        " lang='{}'",
        " class='{}'",
        " datetime='{}'",
        " property='og:title' content='{}'",
        " name='date' content='{}'",
        " type='application/ld+json'",
        " href='{}'",
    ]
)
_PIECE = st.one_of(
    st.text(max_size=40),
    st.tuples(st.sampled_from(_TAGS), _ATTRS, st.text(max_size=12)).map(
        lambda t: f"<{t[0]}{t[1].format(t[2])}>"
    ),
    st.sampled_from(_TAGS).map(lambda tag: f"</{tag}>"),
    st.sampled_from(
        ["<!--", "-->", "<!DOCTYPE html>", "<", ">", "&amp;", "&#0;", '{"@graph": [', "]}"]
    ),
    st.just(ARTICLE),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECE, max_size=40).map("".join))
def test_arbitrary_tag_soup_only_raises_page_rejected(html: str) -> None:
    """Any mix of tags, attributes and text gives a draft or a PageRejected, nothing else."""
    _check(html)
