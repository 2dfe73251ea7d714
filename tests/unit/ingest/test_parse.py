"""Pure request parsing: media types, charsets, envelope headers, JSON pages and NDJSON batches."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas import ContentType, RawPage, derive_page_id
from services.ingest.errors import Rejected, RejectReason
from services.ingest.parse import (
    BodyKind,
    MediaType,
    check_batch_type,
    content_coding,
    decode_text,
    header_text,
    idempotency_key,
    key_page_id,
    parse_batch,
    parse_fetched_at,
    parse_json_page,
    parse_media_type,
    parse_raw_page,
    single_page_kind,
)

T = TypeVar("T")
FETCHED = "2025-06-21T18:00:00Z"
RAW_HEADERS = {"x-source": "Daily8", "x-fetched-at": FETCHED, "x-url": "https://daily8.example/"}


def _page_json(**fields: object) -> bytes:
    page = {"source": "Daily8", "fetched_at": FETCHED, "body": "Some news.", **fields}
    return json.dumps(page).encode()


def _reason(exc: pytest.ExceptionInfo[Rejected]) -> RejectReason:
    return exc.value.reason


def _attempt(parse: Callable[[], T]) -> T | Rejected:
    """The parse result, or the refusal it raised (any other exception propagates)."""
    try:
        return parse()
    except Rejected as exc:
        return exc


def test_media_type_reads_essence_and_charset_case_insensitively() -> None:
    """Content-Type parameters are parsed: a quoted, upper-case charset comes back lower-case."""
    media = parse_media_type('Text/HTML; Charset="Windows-1251"')
    assert media == MediaType("text/html", "windows-1251")
    assert parse_media_type("application/json") == MediaType("application/json", None)


@pytest.mark.parametrize("header", [None, "", "html", "text/", "/plain", "a/b/c"])
def test_a_shapeless_content_type_is_unsupported(header: str | None) -> None:
    """A missing Content-Type or one without type/subtype is refused with 415."""
    with pytest.raises(Rejected) as exc:
        parse_media_type(header)
    assert _reason(exc) is RejectReason.UNSUPPORTED_MEDIA_TYPE
    assert exc.value.status == 415


def test_single_page_kind_follows_the_media_type() -> None:
    """JSON reads a RawPage; text/html and text/plain read a raw body; anything else is 415."""
    assert single_page_kind(MediaType("application/json", None)) is BodyKind.JSON
    assert single_page_kind(MediaType("application/json", "utf-8")) is BodyKind.JSON
    assert single_page_kind(MediaType("text/html", "koi8-r")) is BodyKind.RAW
    assert single_page_kind(MediaType("text/plain", None)) is BodyKind.RAW
    for media in (MediaType("image/png", None), MediaType("application/json", "latin-1")):
        with pytest.raises(Rejected) as exc:
            single_page_kind(media)
        assert _reason(exc) is RejectReason.UNSUPPORTED_MEDIA_TYPE


def test_a_batch_must_be_ndjson() -> None:
    """NDJSON (x-ndjson or jsonl) is a batch; plain JSON is refused with 415."""
    check_batch_type(MediaType("application/x-ndjson", None))
    check_batch_type(MediaType("application/jsonl", "utf-8"))
    with pytest.raises(Rejected) as exc:
        check_batch_type(MediaType("application/json", None))
    assert _reason(exc) is RejectReason.UNSUPPORTED_MEDIA_TYPE


def test_content_coding_accepts_gzip_and_identity_only() -> None:
    """gzip (and its x-gzip alias) and identity are read; br or deflate are refused with 415."""
    assert content_coding(None) == "identity"
    assert content_coding(" GZIP ") == "gzip"
    assert content_coding("x-gzip") == "gzip"
    for coding in ("br", "deflate", "gzip, gzip"):
        with pytest.raises(Rejected) as exc:
            content_coding(coding)
        assert _reason(exc) is RejectReason.UNSUPPORTED_ENCODING
        assert exc.value.status == 415


def test_decode_text_honours_the_declared_charset() -> None:
    """Bytes in windows-1251 or Shift_JIS decode to the same text they encoded."""
    assert decode_text("Новости дня".encode("cp1251"), "windows-1251") == "Новости дня"
    assert decode_text("東京の天気".encode("shift_jis"), "shift_jis") == "東京の天気"


def test_decode_text_defaults_to_utf8_and_drops_a_bom() -> None:
    """Without a charset the body is UTF-8, and a UTF-8 byte order mark is not kept as text."""
    assert decode_text("\ufeffCafé".encode(), None) == "Café"


def test_undecodable_bytes_are_refused_with_the_offset() -> None:
    """Bytes invalid under the declared charset are a 400 naming the charset and the byte offset."""
    with pytest.raises(Rejected) as exc:
        decode_text(b"ok \xff\xfe", "utf-8")
    assert _reason(exc) is RejectReason.UNDECODABLE
    assert exc.value.status == 400
    assert "utf-8" in exc.value.detail
    assert "byte 3" in exc.value.detail


@pytest.mark.parametrize("charset", ["no-such-charset", "base64", "zlib"])
def test_an_unknown_or_non_text_charset_is_unsupported(charset: str) -> None:
    """A charset Python does not know as a text encoding is refused with 415."""
    with pytest.raises(Rejected) as exc:
        decode_text(b"abc", charset)
    assert _reason(exc) is RejectReason.UNSUPPORTED_MEDIA_TYPE


def test_header_text_reads_utf8_sent_as_raw_bytes() -> None:
    """A UTF-8 header (which Starlette hands over as Latin-1) reads back as the original text."""
    as_starlette_gives_it = "Вечерний".encode().decode("latin-1")
    assert header_text({"x-source": as_starlette_gives_it}, "x-source") == "Вечерний"
    assert header_text({}, "x-source") is None
    with pytest.raises(Rejected) as exc:
        header_text({"x-source": "\xff"}, "x-source")
    assert _reason(exc) is RejectReason.INVALID_HEADER


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-06-21T18:00:00Z", datetime(2025, 6, 21, 18, tzinfo=UTC)),
        ("2025-06-21t18:00:00z", datetime(2025, 6, 21, 18, tzinfo=UTC)),
        (
            "2025-06-21 21:00:00.5+03:00",
            datetime(2025, 6, 21, 21, 0, 0, 500000, timezone(timedelta(hours=3))),
        ),
    ],
)
def test_fetched_at_reads_rfc3339_with_an_offset(text: str, expected: datetime) -> None:
    """RFC 3339 timestamps (Z or an offset, T or space, fractions) parse to aware datetimes."""
    assert parse_fetched_at(text) == expected


def test_fetched_at_reads_an_http_date() -> None:
    """The Date header of a fetched response (IMF-fixdate, GMT) is read as UTC."""
    assert parse_fetched_at("Sat, 21 Jun 2025 18:00:00 GMT") == datetime(
        2025, 6, 21, 18, tzinfo=UTC
    )
    for impossible in ("Sat, 31 Jun 2025 18:00:00 GMT", "Sat, 21 Jun 2025 25:00:00 GMT"):
        with pytest.raises(Rejected) as exc:
            parse_fetched_at(impossible)
        assert _reason(exc) is RejectReason.INVALID_HEADER


def test_a_naive_fetched_at_is_refused_asking_for_an_offset() -> None:
    """A timestamp without an offset is a 400 that says to add Z or +HH:MM."""
    with pytest.raises(Rejected) as exc:
        parse_fetched_at("2025-06-21T18:00:00")
    assert _reason(exc) is RejectReason.INVALID_HEADER
    assert "timezone offset" in exc.value.detail


@pytest.mark.parametrize(
    "text",
    [
        "yesterday",
        "2025-06-21",
        "1750528800",
        "2025-13-40T25:00:00Z",
        "20250621T180000Z",
        "Sat, 21 Jun 2025 18:00:00 +0300",
        "Saturday, 21-Jun-25 18:00:00 GMT",
    ],
)
def test_a_malformed_fetched_at_is_refused(text: str) -> None:
    """Anything but an RFC 3339 date-time or an IMF-fixdate HTTP date (dates alone, epochs,
    impossible dates, other date formats) is a 400."""
    with pytest.raises(Rejected) as exc:
        parse_fetched_at(text)
    assert _reason(exc) is RejectReason.INVALID_HEADER


@given(st.text(max_size=40))
def test_fetched_at_parsing_never_crashes(text: str) -> None:
    """Arbitrary text gives an aware datetime or a Rejected, never another exception."""
    parsed = _attempt(lambda: parse_fetched_at(text))
    if isinstance(parsed, Rejected):
        assert parsed.reason is RejectReason.INVALID_HEADER
    else:
        assert parsed.tzinfo is not None


def test_key_page_id_is_stable_and_distinct_per_batch_position() -> None:
    """The same key gives the same id; batch positions give distinct ids; all start with k-."""
    assert key_page_id("order-1") == key_page_id("order-1")
    assert key_page_id("order-1") != key_page_id("order-2")
    ids = {key_page_id("order-1", index) for index in range(100)}
    assert len(ids) == 100
    assert all(page_id.startswith("k-") for page_id in ids)


def test_an_overlong_idempotency_key_is_refused() -> None:
    """Idempotency-Key is capped at 256 characters (an empty one is refused too)."""
    assert idempotency_key({"idempotency-key": "k" * 256}) == "k" * 256
    for value in ("k" * 257, "  "):
        with pytest.raises(Rejected) as exc:
            idempotency_key({"idempotency-key": value})
        assert _reason(exc) is RejectReason.INVALID_HEADER


def test_a_json_page_without_id_gets_the_content_derived_id() -> None:
    """Without page_id or key, the id is the one RawPage derives from url, source, time and body."""
    page = parse_json_page(_page_json(), None)
    assert page.page_id == derive_page_id(page.model_dump())
    assert page == parse_json_page(_page_json(), None)


def test_a_json_page_takes_the_idempotency_key_id_only_without_its_own() -> None:
    """An Idempotency-Key names a page that has no page_id; an explicit page_id is kept."""
    assert parse_json_page(_page_json(), "resend-7").page_id == key_page_id("resend-7")
    assert parse_json_page(_page_json(page_id="mine-1"), "resend-7").page_id == "mine-1"


@pytest.mark.parametrize("body", [b"", b"  \n", b"[1, 2]", b'"page"', b"{", b"\xff{}", b"null"])
def test_malformed_json_is_a_400(body: bytes) -> None:
    """Empty bodies are `empty_body`; non-JSON or non-object JSON is `malformed_json`; both 400."""
    with pytest.raises(Rejected) as exc:
        parse_json_page(body, None)
    expected = RejectReason.EMPTY_BODY if not body.strip() else RejectReason.MALFORMED_JSON
    assert _reason(exc) is expected
    assert exc.value.status == 400


def test_an_invalid_page_is_a_422_naming_each_field() -> None:
    """A naive fetched_at and an unknown field are both named; the derived-id echo is not."""
    with pytest.raises(Rejected) as exc:
        parse_json_page(_page_json(fetched_at="2025-06-21T18:00:00", colour="red"), None)
    assert _reason(exc) is RejectReason.INVALID_PAGE
    assert exc.value.status == 422
    assert "fetched_at: Input should have timezone info" in exc.value.detail
    assert "colour: Extra inputs are not permitted" in exc.value.detail
    assert "page_id" not in exc.value.detail


def test_a_raw_page_takes_its_envelope_from_the_headers() -> None:
    """A raw windows-1251 HTML body becomes an HTML RawPage with url, source and fetched_at."""
    media = parse_media_type("text/html; charset=windows-1251")
    page = parse_raw_page("<p>Привет</p>".encode("cp1251"), media, RAW_HEADERS)
    assert page.body == "<p>Привет</p>"
    assert page.content_type is ContentType.HTML
    assert page.source == "Daily8"
    assert page.url == "https://daily8.example/"
    assert page.fetched_at == datetime(2025, 6, 21, 18, tzinfo=UTC)
    assert page.page_id == derive_page_id(page.model_dump())


RUSSIAN_HTML = (
    "<html><head>{meta}<title>Новости</title></head>"
    "<body><p>Городской совет одобрил продление трамвайной линии.</p></body></html>"
)
HTML_UNDECLARED = MediaType("text/html", None)


@pytest.mark.parametrize(
    ("meta", "encoding"),
    [
        ('<meta charset="windows-1251">', "cp1251"),
        ('<meta http-equiv="Content-Type" content="text/html; charset=KOI8-R">', "koi8_r"),
        ("<meta charset='gbk'>", "gbk"),
    ],
)
def test_a_raw_html_body_without_a_charset_is_read_as_its_meta_declares(
    meta: str, encoding: str
) -> None:
    """With no charset in the Content-Type, an HTML body's <meta> charset decodes it."""
    text = RUSSIAN_HTML.format(meta=meta)
    page = parse_raw_page(text.encode(encoding), HTML_UNDECLARED, RAW_HEADERS)
    assert page.body == text


def test_an_undeclared_html_body_in_utf8_stays_utf8_whatever_its_meta_says() -> None:
    """A page re-encoded to UTF-8 that kept its old <meta charset> is read as UTF-8."""
    text = RUSSIAN_HTML.format(meta='<meta charset="windows-1251">')
    assert parse_raw_page(text.encode(), HTML_UNDECLARED, RAW_HEADERS).body == text
    with_bom = parse_raw_page(b"\xef\xbb\xbf" + text.encode(), HTML_UNDECLARED, RAW_HEADERS)
    assert with_bom.body == text


def test_an_xhtml_body_is_an_html_page() -> None:
    """application/xhtml+xml is read as HTML, its <meta> charset included."""
    text = RUSSIAN_HTML.format(meta='<meta charset="windows-1251">')
    media = parse_media_type("application/xhtml+xml")
    assert single_page_kind(media) is BodyKind.RAW
    page = parse_raw_page(text.encode("cp1251"), media, RAW_HEADERS)
    assert page.content_type is ContentType.HTML
    assert page.body == text


def test_the_content_type_charset_wins_over_the_meta() -> None:
    """The HTTP header's charset is the one used, whatever the page's <meta> says."""
    text = RUSSIAN_HTML.format(meta='<meta charset="windows-1251">')
    media = parse_media_type("text/html; charset=utf-8")
    assert parse_raw_page(text.encode(), media, RAW_HEADERS).body == text
    with pytest.raises(Rejected) as exc:
        parse_raw_page(text.encode("cp1251"), media, RAW_HEADERS)
    assert _reason(exc) is RejectReason.UNDECODABLE


def test_a_byte_order_mark_decides_an_undeclared_html_body() -> None:
    """A UTF-16 byte order mark is honoured; a <meta> naming UTF-16 in ASCII bytes means UTF-8."""
    text = RUSSIAN_HTML.format(meta="")
    page = parse_raw_page(text.encode("utf-16"), HTML_UNDECLARED, RAW_HEADERS)
    assert page.body == text
    claims_utf16 = RUSSIAN_HTML.format(meta='<meta charset="utf-16">')
    assert parse_raw_page(claims_utf16.encode(), HTML_UNDECLARED, RAW_HEADERS).body == claims_utf16


def test_an_undeclared_body_that_is_not_utf8_is_still_refused() -> None:
    """No charset anywhere (or a text/plain body, whose <meta>-like text means nothing): UTF-8,
    and bytes that are not UTF-8 are a 400 rather than a guess."""
    bare = RUSSIAN_HTML.format(meta="").encode("cp1251")
    with pytest.raises(Rejected) as exc:
        parse_raw_page(bare, HTML_UNDECLARED, RAW_HEADERS)
    assert _reason(exc) is RejectReason.UNDECODABLE
    plain = RUSSIAN_HTML.format(meta='<meta charset="windows-1251">').encode("cp1251")
    with pytest.raises(Rejected) as exc:
        parse_raw_page(plain, MediaType("text/plain", None), RAW_HEADERS)
    assert _reason(exc) is RejectReason.UNDECODABLE


def test_a_raw_page_id_comes_from_x_page_id_before_the_idempotency_key() -> None:
    """X-Page-Id wins over Idempotency-Key, which wins over the content-derived id."""
    media = MediaType("text/plain", None)
    keyed = {**RAW_HEADERS, "idempotency-key": "resend-7"}
    assert parse_raw_page(b"text", media, keyed).page_id == key_page_id("resend-7")
    both = {**keyed, "x-page-id": "seed-0001"}
    assert parse_raw_page(b"text", media, both).page_id == "seed-0001"


def test_a_raw_page_without_envelope_headers_names_them_all() -> None:
    """Missing X-Source and X-Fetched-At are both named in one 400."""
    with pytest.raises(Rejected) as exc:
        parse_raw_page(b"text", MediaType("text/plain", None), {"x-url": "https://a.example/"})
    assert _reason(exc) is RejectReason.MISSING_HEADER
    assert "X-Source" in exc.value.detail
    assert "X-Fetched-At" in exc.value.detail


def test_an_invalid_raw_page_names_the_header_not_the_field() -> None:
    """A page id with a space is a 422 that names X-Page-Id, the header the client set."""
    headers = {**RAW_HEADERS, "x-page-id": "two words"}
    with pytest.raises(Rejected) as exc:
        parse_raw_page(b"text", MediaType("text/plain", None), headers)
    assert _reason(exc) is RejectReason.INVALID_PAGE
    assert exc.value.detail.startswith("X-Page-Id:")


def test_an_empty_raw_body_is_refused() -> None:
    """A raw page with no bytes at all is a 400 `empty_body`."""
    with pytest.raises(Rejected) as exc:
        parse_raw_page(b"", MediaType("text/plain", None), RAW_HEADERS)
    assert _reason(exc) is RejectReason.EMPTY_BODY


def test_a_batch_skips_blank_lines_and_reads_crlf() -> None:
    """Blank lines are ignored and CRLF endings read; pages keep their order."""
    body = _page_json(page_id="a") + b"\r\n\r\n" + _page_json(page_id="b") + b"\n"
    pages = parse_batch(body, None, max_pages=10, max_page_bytes=10_000)
    assert [page.page_id for page in pages] == ["a", "b"]


def test_a_batch_with_a_key_names_each_page_by_position() -> None:
    """With an Idempotency-Key, id-less pages get the key's id for their position in the batch."""
    body = b"\n".join([_page_json(), _page_json(page_id="own"), _page_json(body="other")])
    pages = parse_batch(body, "batch-9", max_pages=10, max_page_bytes=10_000)
    assert [page.page_id for page in pages] == [
        key_page_id("batch-9", 0),
        "own",
        key_page_id("batch-9", 2),
    ]


def test_a_batch_with_bad_lines_is_refused_naming_every_one() -> None:
    """All or nothing: every bad line is listed with its 1-based number and reason."""
    lines = [
        _page_json(),
        b"{not json",
        b"",
        _page_json(fetched_at="2025-06-21T18:00:00"),
        _page_json(body="x" * 600),
    ]
    with pytest.raises(Rejected) as exc:
        parse_batch(b"\n".join(lines), None, max_pages=10, max_page_bytes=500)
    assert _reason(exc) is RejectReason.INVALID_BATCH
    assert exc.value.status == 422
    assert exc.value.pages == 4
    failures = exc.value.body()["lines"]
    assert [(f["line"], f["error"]) for f in failures] == [
        (2, "malformed_json"),
        (4, "invalid_page"),
        (5, "too_large"),
    ]
    assert "fetched_at" in failures[1]["detail"]


def test_a_batch_over_the_page_count_is_too_large() -> None:
    """More pages than max_pages is a 413 before any line is validated."""
    body = b"\n".join([b"{}"] * 4)
    with pytest.raises(Rejected) as exc:
        parse_batch(body, None, max_pages=3, max_page_bytes=10_000)
    assert _reason(exc) is RejectReason.TOO_LARGE
    assert exc.value.status == 413


def test_an_empty_batch_is_refused() -> None:
    """A batch of blank lines has no pages: 400 `empty_body`."""
    with pytest.raises(Rejected) as exc:
        parse_batch(b"\n \n", None, max_pages=3, max_page_bytes=10_000)
    assert _reason(exc) is RejectReason.EMPTY_BODY


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash_the_json_and_batch_parsers(data: bytes) -> None:
    """Any bytes give pages or a Rejected, never another exception."""
    for parse in (
        lambda: [parse_json_page(data, "k")],
        lambda: parse_batch(data, None, max_pages=5, max_page_bytes=200),
    ):
        pages = _attempt(parse)
        if isinstance(pages, Rejected):
            assert pages.status in (400, 413, 422)
        else:
            assert all(isinstance(page, RawPage) for page in pages)


@given(
    st.binary(max_size=200),
    st.sampled_from(["utf-8", "windows-1251", "shift_jis", "utf-16-le", "iso-8859-1"]),
)
def test_arbitrary_bytes_never_crash_the_raw_parser(data: bytes, charset: str) -> None:
    """Any body under any charset gives a page whose body encodes back, or a Rejected."""
    media = MediaType("text/plain", charset)
    page = _attempt(lambda: parse_raw_page(data, media, RAW_HEADERS))
    if isinstance(page, Rejected):
        assert page.reason in (RejectReason.UNDECODABLE, RejectReason.EMPTY_BODY)
    else:
        assert page.body.encode(charset) in (data, data.removeprefix(b"\xef\xbb\xbf"))


@given(st.binary(max_size=300) | st.builds(lambda tail: b"<meta charset=" + tail, st.binary()))
def test_arbitrary_bytes_never_crash_the_undeclared_html_parser(data: bytes) -> None:
    """Any body sent as text/html without a charset gives an HTML page, its byte order mark
    dropped, or a Rejected."""
    page = _attempt(lambda: parse_raw_page(data, HTML_UNDECLARED, RAW_HEADERS))
    if isinstance(page, Rejected):
        assert page.reason in (RejectReason.UNDECODABLE, RejectReason.EMPTY_BODY)
    else:
        assert page.content_type is ContentType.HTML
        assert not page.body.startswith("\ufeff")


@given(st.text(max_size=200), st.text(min_size=1, max_size=30))
def test_the_same_content_gets_the_same_id(body: str, source: str) -> None:
    """Sending a page twice without an id gives the same derived id both times."""
    data = json.dumps({"source": source, "fetched_at": FETCHED, "body": body}).encode()
    assert parse_json_page(data, None).page_id == parse_json_page(data, None).page_id
