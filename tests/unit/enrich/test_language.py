"""Tests of language detection and of the reduction of declared tags to ISO 639-1."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.enrich.language import detect_language, to_iso639_1

LONG = {
    "en": (
        "Electricity demand across the western grid hit an all-time high on Tuesday evening as "
        "a week-long heatwave pushed temperatures past 115F in Phoenix and Las Vegas. Operators "
        "called on emergency reserves and asked millions of customers to cut back on air "
        "conditioning during the hottest hours of the day."
    ),
    "de": (
        "Für rund 42.000 Haushalte in Bonn und im Rhein-Sieg-Kreis wird das Heizen im kommenden "
        "Winter deutlich teurer. Die Stadtwerke haben am Donnerstag angekündigt, den Arbeitspreis "
        "für Fernwärme zum 1. April um durchschnittlich 18 Prozent anzuheben."
    ),
    "es": (
        "Después de dos años de obras y varias postergaciones, el nuevo puente ferroviario quedó "
        "habilitado este viernes por la tarde, cuando el primer tren de carga con cereal cruzó la "
        "estructura rumbo al puerto. La inversión total fue de 9.800 millones de pesos."
    ),
    "fr": (
        "La préfecture a interdit jeudi matin la baignade et les activités nautiques sur trois "
        "plages, après la découverte d'une nappe d'hydrocarbures sur le lac. Les pompiers ont "
        "déployé dans la nuit près de six cents mètres de barrages flottants."
    ),
    "ru": (
        "В Новосибирске в понедельник открылась станция метро «Спортивная» — первая новая станция "
        "в городе за последние пятнадцать лет. Строительство началось ещё в 2012 году, однако "
        "несколько раз останавливалось из-за нехватки финансирования."
    ),
    "zh": (
        "今天上午九时，杭州地铁19号线西延段正式开通运营。西延段全长约十二公里，新增五座车站，"
        "市民从火车东站出发，最快二十五分钟即可到达西湖景区。交通专家表示，西延段的开通将进一步"
        "完善杭州城市轨道交通网络。"
    ),
    "ja": (
        "全長三百六十メートルを超える大型クルーズ船が三日早朝、横浜港の大さん橋ふ頭に初めて入港した。"
        "船は午前六時ごろ、タグボートに誘導されながらゆっくりと岸壁に接岸した。ふ頭では横浜市の職員や"
        "地元の高校の吹奏楽部が出迎えた。"
    ),
    "ar": (
        "افتتحت صباح اليوم الأحد أكبر محطة لتحلية مياه البحر تعمل بالطاقة الشمسية في المنطقة، "
        "وتبلغ الطاقة الإنتاجية للمحطة ثلاثمئة ألف متر مكعب من المياه يومياً، وهي كمية تكفي "
        "لتلبية احتياجات نحو مليون نسمة."
    ),
    "th": (
        "เทศบาลนครเชียงใหม่เปิดใช้เส้นทางจักรยานรอบคูเมืองอย่างเป็นทางการเมื่อเช้าวันนี้ "
        "โดยเส้นทางดังกล่าวมีความยาวประมาณหกกิโลเมตร และแยกออกจากช่องทางรถยนต์ด้วยแนวกั้นคอนกรีต"
    ),
    "ko": (
        "서울시는 내년부터 지하철과 버스 기본요금을 인상한다고 밝혔다. 시는 운영 적자가 계속 "
        "늘어나고 있어 요금 조정이 불가피하다고 설명했다. 시민단체는 서민 부담이 커진다며 반발했다."
    ),
    "hi": (
        "दिल्ली में आज सुबह से हो रही भारी बारिश के कारण कई इलाकों में जलभराव हो गया और यातायात "
        "बुरी तरह प्रभावित हुआ। मौसम विभाग ने अगले दो दिनों के लिए अलर्ट जारी किया है।"
    ),
}

SHORT = {
    "en": "The council approved the harbour plan on Friday night.",
    "de": "Die Stadtwerke erhöhen die Preise für Fernwärme deutlich.",
    "es": "El nuevo puente quedó habilitado este viernes por la tarde.",
    "fr": "La préfecture a interdit la baignade sur trois plages.",
    "ru": "В Новосибирске открылась новая станция метро.",
    "zh": "杭州地铁19号线西延段今天上午正式开通运营，市民可直达西湖景区。",
    "ja": "横浜港に過去最大のクルーズ船が初めて入港した。",
    "ar": "افتتحت اليوم أكبر محطة لتحلية مياه البحر في المنطقة.",
    "th": "เชียงใหม่เปิดเส้นทางจักรยานรอบคูเมืองยาวหกกิโลเมตร",
    "ko": "서울시는 내년부터 대중교통 요금을 인상한다고 밝혔다.",
    "hi": "दिल्ली में आज भारी बारिश के कारण यातायात प्रभावित हुआ।",
}


@pytest.mark.parametrize(("code", "text"), LONG.items(), ids=list(LONG))
def test_long_text_is_detected(code: str, text: str) -> None:
    """A paragraph is detected as its language with no declaration to help."""
    assert detect_language(text) == code


@pytest.mark.parametrize(("code", "text"), SHORT.items(), ids=list(SHORT))
def test_short_sentence_is_detected(code: str, text: str) -> None:
    """One sentence is enough to tell each language."""
    assert detect_language(text) == code


@pytest.mark.parametrize(("code", "text"), LONG.items(), ids=list(LONG))
def test_confident_detection_beats_a_wrong_declaration(code: str, text: str) -> None:
    """A page declaring the wrong language still gets the language of its text."""
    wrong = "de" if code == "en" else "en"
    assert detect_language(text, wrong) == code


@pytest.mark.parametrize(
    ("text", "declared", "expected"),
    [
        ("Breaking news", "en-US", "en"),
        ("東京都知事選挙", "ja", "ja"),
        ("12:45 · 3 min", "fr_FR", "fr"),
        ("", "ru", "ru"),
        ("Live", None, None),
    ],
)
def test_too_little_text_falls_back_to_the_declaration(
    text: str, declared: str | None, expected: str | None
) -> None:
    """Fewer than 20 letters cannot be judged: the declared language (as ISO 639-1) stands."""
    assert detect_language(text, declared) == expected


def test_unsure_detection_keeps_the_declaration() -> None:
    """A text of names and numbers keeps the declared language, and gives none without one."""
    text = "Anjali Rao, Tom Brannigan, Ian Marsh 2025"
    assert detect_language(text, "pt") == "pt"
    assert detect_language(text) is None


def test_close_languages_defer_to_the_declaration() -> None:
    """A page declared Galician keeps "gl" though its short text reads confidently as Portuguese."""
    text = "O governo anunciou hoje novas medidas para a economia do país."
    assert detect_language(text) == "pt"
    assert detect_language(text, "gl") == "gl"
    assert detect_language(text, "es") == "pt"


def test_only_the_start_of_a_long_text_is_read() -> None:
    """Detection reads the first part of the text, so a long article is judged by its opening."""
    text = LONG["en"] * 8 + LONG["de"] * 40
    assert detect_language(text) == "en"


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("en-GB", "en"),
        ("zh_CN", "zh"),
        ("ja_JP", "ja"),
        (" EN, fr", "en"),
        ("deu", "de"),
        ("iw", "he"),
        ("arz", "ar"),
        ("x-default", None),
        ("english", None),
        ("", None),
        (None, None),
    ],
)
def test_tags_reduce_to_iso639_1(tag: str | None, expected: str | None) -> None:
    """Region, script and three-letter forms reduce to the two-letter code; others to None."""
    assert to_iso639_1(tag) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(), st.one_of(st.none(), st.text(max_size=12)))
def test_any_text_gives_a_code_or_none(text: str, declared: str | None) -> None:
    """Arbitrary text and tags never raise and give a two-letter lowercase code or None."""
    result = detect_language(text, declared)
    assert result is None or (len(result) == 2 and result.isascii() and result.islower())
