"""The boilerplate lexicon: widget, navigation and notice lines that are never article text.

Owns `boilerplate_kind` / `is_boilerplate_line` over one whitespace-normalised line. Two
kinds, because the splitter treats them differently:

- SECTION lines open a new part of the page ("Related Articles", "Comments", "Most read",
  "© 2025 ...", cookie notices, menus): they end the article body before them.
- INLINE lines sit inside or between articles ("Advertisement", "Read more", share bars,
  photo credits, separators): they are dropped and the body goes on after them.

Whole-line phrases are looked up in a table (English, Spanish, German, French, Italian,
Portuguese, Dutch, Russian); line shapes (counts, copyright, cookie notices, menus,
hashtags, "Follow us on ...") are matched by a few patterns gated by line length, so long
paragraphs that merely mention a word are left alone.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

from services.enrich.text import word_count


class BoilerplateKind(StrEnum):
    """How a boilerplate line bears on the article text around it."""

    SECTION = "section"
    """Opens another part of the page; the article before it ends."""
    INLINE = "inline"
    """Interrupts an article; it is dropped and the article continues."""


_SECTION_PHRASES: Final = """
loading|loading more|details to come|more details soon|this story is developing|story developing
check back for updates|updates to follow|this story will be updated|watch the video|watch video
view gallery|open in app|get the app|download the app|install the app|continue with google
continue with email|already have an account|create an account|create account|log in to comment
sign in to comment|write a comment|hide comments|report this comment|most shared|most commented
what to read next|up next|next article|previous article|recommended reading|readers also liked
more top stories|top headlines|headlines|all news|news feed|for you|discover|explore|explore more
categories|category|filed under|posted in|font size|text size|dark mode|close|dismiss|got it
i agree|accept cookies|cookie preferences|manage cookies|your privacy|privacy settings
do not sell my personal information|terms|privacy|contact|about|careers|advertise|help|faq
sitemap|rss|archive|imprint|impressum|datenschutz|datenschutzerklärung|kontakt|aviso legal
política de privacidad|mentions légales|politique de confidentialité|nous contacter|à propos
ai summary|summarize with ai|summarise with ai|ask ai|cargando|wird geladen|chargement
mostrar más|mostrar comentarios|ver comentarios|kommentare anzeigen|voir les commentaires
afficher plus|plus de commentaires|contenido relacionado|mehr zum thema|à la une|en direct
related articles|related|related stories|related news|related content|related posts|more stories
more news|more articles|more headlines|you may also like|you might also like|recommended
recommended for you|recommended stories|comments|comment|no comments yet|no comments
be the first to comment|leave a comment|post a comment|add a comment|join the conversation
show comments|view comments|hashtags|tags|topics|details to follow|more details to follow
more to follow|more to come|this is a developing story|developing story|breaking news|breaking
trending|trending now|trending news|trending stories|most read|most popular|most viewed|popular
popular now|top stories|top news|latest|latest news|latest stories|editor's picks|editors' picks
editors picks|don't miss|in other news|newsletter|sign up for our newsletter
subscribe to our newsletter|get our newsletter|subscribe|sign up|sign in|log in|login|register
load more|show more|see more|see all|view all|view more|more|next|previous|back to top|menu
search|home|skip to content|skip to main content|skip to navigation|try our ai features
ai features|follow us|contact us|about us|privacy policy|terms of use|terms and conditions
terms of service|advertise with us|partner content|from our partners|promoted stories
around the web|accept|accept all|reject all|manage preferences|cookie settings
more from this source|more on this story|in pictures|artículos relacionados
noticias relacionadas|relacionado|relacionados|te puede interesar|también te puede interesar
comentarios|sin comentarios|aún no hay comentarios|no hay comentarios|deja un comentario
etiquetas|temas|lo más leído|lo más visto|más leídas|más leído|tendencias|últimas noticias
suscríbete|suscríbete a nuestro boletín|boletín|ir al contenido|saltar al contenido|menú
cargar más|ver más|ver todo|más noticias|síguenos|inicio|buscar|última hora
más detalles en breve|ähnliche artikel|verwandte artikel|weitere artikel
das könnte sie auch interessieren|auch interessant|kommentare|noch keine kommentare
keine kommentare|kommentar schreiben|themen|schlagworte|meistgelesen|meistgelesene artikel
am meisten gelesen|beliebt|neueste nachrichten|newsletter abonnieren|jetzt abonnieren|abonnieren
mehr laden|zum inhalt springen|menü|mehr anzeigen|alle anzeigen|mehr nachrichten|folgen sie uns
startseite|suche|anmelden|weitere details folgen|mehr in kürze|eilmeldung|articles similaires
articles liés|articles connexes|à lire aussi|sur le même sujet|vous aimerez aussi|commentaires
aucun commentaire|pas encore de commentaires|laisser un commentaire|mots-clés|thèmes
les plus lus|les plus populaires|tendances|dernières nouvelles|dernières infos|abonnez-vous
inscrivez-vous à notre newsletter|inscrivez-vous|charger plus|voir plus|aller au contenu
passer au contenu|voir tout|plus d'articles|suivez-nous|accueil|rechercher|se connecter
plus de détails à suivre|à suivre|dernière minute|articoli correlati|potrebbe interessarti
commenti|nessun commento|i più letti|più letti|iscriviti|iscriviti alla newsletter|carica altro
mostra altro|seguici|ultime notizie|artigos relacionados|notícias relacionadas|comentários
sem comentários|mais lidas|mais lidos|assine|assine a newsletter|carregar mais|ver mais|siga-nos
últimas notícias|gerelateerde artikelen|reacties|geen reacties|meest gelezen|meer laden|lees ook
abonneer|похожие статьи|читайте также|комментарии|нет комментариев|популярное|самое читаемое
подписаться|показать еще|показать ещё|загрузить еще|главное|новости по теме
"""

_INLINE_PHRASES: Final = """
advertisement|advertisements|advert|ad|ads|sponsored|sponsored content|promoted|paid content
read more|continue reading|read also|also read|read next|keep reading|read full article
read the full article|read full story|scroll to continue|scroll to continue with content
story continues below|article continues below|story continues below advertisement
advertisement continues below|click here|share|share this|share this article|share this story
share article|share on facebook|share on twitter|share on x|share on whatsapp|tweet|email|print
copy link|link copied|whatsapp|facebook|twitter|telegram|x|reddit|linkedin|pinterest
listen to this article|listen|watch|watch now|watch live|video|play video|photo|gallery|save
bookmark|report|publicidad|anuncio|contenido patrocinado|patrocinado|leer más|lee más
seguir leyendo|lee también|leer también|compartir|comparte|comparte este artículo
compartir en facebook|escuchar|anzeige|werbung|gesponsert|weiterlesen|mehr lesen|lesen sie auch
auch lesen|teilen|artikel teilen|vorlesen|publicité|sponsorisé|lire la suite|lire aussi
lire plus|partager|partager cet article|écouter|pubblicità|sponsorizzato|leggi anche
leggi di più|continua a leggere|condividi|publicidade|patrocinado|leia mais|leia também
continue lendo|compartilhe|compartilhar|advertentie|gesponsord|lees meer|lees verder|delen
реклама|читать далее|читать полностью|подробнее|поделиться
"""


def _phrase_table() -> dict[str, BoilerplateKind]:
    table: dict[str, BoilerplateKind] = {}
    for kind, phrases in (
        (BoilerplateKind.SECTION, _SECTION_PHRASES),
        (BoilerplateKind.INLINE, _INLINE_PHRASES),
    ):
        for line in phrases.strip().splitlines():
            for phrase in line.split("|"):
                table.setdefault(phrase.strip(), kind)
    return table


_PHRASES: Final = _phrase_table()
# Longest table phrase in words: lines longer than this skip the table lookup.
_PHRASE_MAX_WORDS: Final = max(word_count(phrase) for phrase in _PHRASES)

# A trailing count ("Comments (3)", "Kommentare [12]") does not change what the line is.
_COUNT: Final = re.compile(r"\s*[\(\[]\d+[\)\]]$")
# Punctuation and symbols around a widget label ("No comments yet...", "» Read more", "Share:").
_EDGE_CHARS: Final = " .…:;,!?¡¿-–—•·|*#>»«<›‹\"'“”‘’„()[]{}/\\+=~_→←↓↑▶►▸✓✔★☆❯❮"
_HAS_WORD: Final = re.compile(r"[^\W_]")
_EDGES: Final = re.compile(r"^[\W_]+|[\W_]+$")

# Asking the reader to subscribe, as whole words: "subscribers", "Abonnenten" and "inscrit"
# are things a news sentence says about a newsletter.
_SIGN_UP: Final = (
    r"\b(?:sign up|subscribe|abonnieren|abonnez|abonne|suscríbete|suscribete"
    r"|suscribirse|suscríbase|inscrivez|inscris|iscriviti|iscriversi|assine|abonneer)\b"
)

# Shapes anchored at the line start (tried with `match`, so they fail fast).
_SECTION_STARTS: Final = re.compile(
    r"|".join(
        (
            r"\d+ (?:comments?|replies|comentarios?|kommentare?|commentaires?|commenti"
            r"|comentários|reacties|комментари\w*)\W*$",
            r"(?:comments?|replies|comentarios|kommentare|commentaires|commenti|comentários"
            r"|reacties|комментарии)\W*\d+\W*$",
            r"(?:tags?|topics?|hashtags?|themen|schlagworte|schlagwörter|etiquetas|temas"
            r"|mots-clés|tags associés|argomenti|assuntos|теги|filed under|posted in"
            r"|categories|category|categorías|kategorien|catégories)\s*:",
            r"(?:try|ask|explore|use|meet) (?:\S+ ){0,3}ai\b(?: \S+){0,3}$",
            r"(?:#[^\s#]+\s*)+$",
            # "Like us on Facebook", not "Like our neighbours in France, we must build..."
            r"(?:follow|subscribe to|sign up for|sign up to|join) (?:us|our)\b|like us\b",
            r"(?:get|receive) (?:the|our) .{0,40}\b(?:newsletter|inbox|app)\b",
            r"(?:download|get) (?:the|our) .{0,30}\bapp\b",
            r"more (?:from|in) \S+(?: \S+){0,3}$",
            r"(?:síguenos|suscríbete|folgen sie uns|abonnieren sie|suivez-nous|abonnez-vous"
            r"|seguici|siga-nos|подписывайтесь)\b",
            rf"{_SIGN_UP}.{{0,60}}\bnewsletter\b",
        )
    )
)
_INLINE_STARTS: Final = re.compile(
    r"|".join(
        (
            r"(?:read more|read also|also read|see also|related|more|lee también|leer también"
            r"|lea también|lesen sie auch|mehr zum thema|lire aussi|à lire aussi|voir aussi"
            r"|leggi anche|leia também|lees ook|читайте также)\s*:",
            r"(?:photo|photos|image|images|picture|pictures|credit|credits|foto|fotos|bild"
            r"|bilder|imagen|imágenes|illustration|video|vídeo|vidéo)\s*(?:credit\s*)?[:©]",
            r"\d+\s*(?:min|mins|minute|minutes|minuto|minutos|minuten|minuti)\.? (?:read"
            r"|de lectura|lesezeit|lesedauer|de lecture|di lettura)$",
            r"(?:lesezeit|lesedauer|temps de lecture|tiempo de lectura)\s*:",
        )
    )
)
# Shapes found anywhere in a line, each behind a plain substring test that is far cheaper.
_ANYWHERE: Final = (
    ("can do for you", re.compile(r"\bwhat\b.{1,60}\bcan do for you\b")),
    ("newsletter", re.compile(rf"\bnewsletter\b.{{0,60}}(?:{_SIGN_UP}|\binbox\b)")),
)
# Notices can run to a long sentence; they are still short next to a real paragraph.
_NOTICE_HINTS: Final = (
    "©", "(c)", "copyright", "reserv", "vorbehalten", "защищены", "responsible", "recaptcha",
    "agree", "accept",
)  # fmt: skip
_NOTICE_STARTS: Final = ("©", "(c)", "copyright")
_RIGHTS_RESERVED: Final = (
    "all rights reserved", "todos los derechos reservados", "alle rechte vorbehalten",
    "tous droits réservés", "tutti i diritti riservati", "todos os direitos reservados",
    "alle rechten voorbehouden", "все права защищены",
)  # fmt: skip
# Every _NOTICES match away from the line start holds one of these phrases. A hint word such
# as "agree" is common in paragraphs, and the regex (word boundaries at every position) costs
# far more than a few substring scans, so it only runs where one of them is found.
_NOTICE_PHRASES: Final = (
    "not responsible for the content of", "protected by recaptcha", "you agree to ",
    "you accept ", *_RIGHTS_RESERVED,
)  # fmt: skip
_NOTICES: Final = re.compile(
    r"|".join(
        (
            # "Copyright © 2025 ...", "Copyright 2025 NewsHub", "Copyright Reuters"; not
            # "Copyright holders will be able to demand payment ..."
            r"^(?:©|\(c\)|copyright\b(?:\s*(?:©|\(c\)|(?:1[89]|20)\d\d\b|by\b|:)"
            r"|(?:\W+\w+){0,5}\W*$))",
            r"\bnot responsible for the content of\b|\bprotected by recaptcha\b"
            r"|\b(?:you agree to|you accept) (?:our|the) (?:terms|use of|privacy|cookie)",
            rf"\b(?:{'|'.join(_RIGHTS_RESERVED)})\b",
        )
    )
)
_COOKIE: Final = re.compile(r"\bcookies?\b")
_COOKIE_CONTEXT: Final = re.compile(
    r"\b(?:polic\w*|política|politique|consent\w*|settings|preferences|accept\w*|acepta\w*"
    r"|akzeptier\w*|accett\w*|website|webseite|site|sitio|sito|browsing|browser|navega\w*"
    r"|navigation|naviguer|experience|expérience|experiencia|erfahrung|nutzererlebnis|improve"
    r"|mejorar|améliorer|verbessern|migliorare|personali[sz]\w*|analytics|third[- ]party"
    r"|terceros|tiers|drittanbieter|datenschutz\w*|privacy|privacidad|confidentialité)\b"
)
# A cookie notice speaks to the reader or of the site itself ("We use cookies...", "Nous
# utilisons des cookies... votre expérience"); news about cookies in browsers does neither.
_COOKIE_ADDRESS: Final = re.compile(
    r"\b(?:we|we're|our|us|you|your|this (?:site|website)|utilizamos|usamos|nuestr\w*|usted"
    r"|este sitio|wir|unser\w*|ihnen|ihre?\w*|diese (?:website|webseite|seite)|nous|notre|nos"
    r"|vous|votre|vos|ce site|utilizziamo|usiamo|nostr\w*|questo sito|nosso\w*|nossa\w*"
    r"|você|este site|wij|onze|deze (?:site|website)|мы|наш\w*|вы|ваш\w*)\b"
)
_MENU_SEPARATORS: Final = re.compile(r"\s+[|›»>/•·]\s+")
_MENU_MARK: Final = re.compile(r"[|›»>/•·]")


def _is_menu(line: str) -> bool:
    # "Home | World | Business | Sport": three or more short items between separators.
    parts = _MENU_SEPARATORS.split(line)
    return len(parts) >= 3 and all(0 < word_count(part) <= 4 for part in parts)


def _has_any(text: str, needles: tuple[str, ...]) -> bool:
    # A plain loop: `any()` over a generator costs more than the substring scans themselves.
    for needle in needles:  # noqa: SIM110
        if needle in text:
            return True
    return False


def _shape_kind(lower: str) -> BoilerplateKind | None:
    if _SECTION_STARTS.match(lower):
        return BoilerplateKind.SECTION
    for hint, pattern in _ANYWHERE:
        if hint in lower and pattern.search(lower):
            return BoilerplateKind.SECTION
    if _MENU_MARK.search(lower) and _is_menu(lower):
        return BoilerplateKind.SECTION
    return BoilerplateKind.INLINE if _INLINE_STARTS.match(lower) else None


def _is_notice(lower: str) -> bool:
    if (
        "cookie" in lower
        and _COOKIE.search(lower) is not None
        and _COOKIE_CONTEXT.search(lower) is not None
        and _COOKIE_ADDRESS.search(lower) is not None
    ):
        return True
    return (
        _has_any(lower, _NOTICE_HINTS)
        and (lower.startswith(_NOTICE_STARTS) or _has_any(lower, _NOTICE_PHRASES))
        and _NOTICES.search(lower) is not None
    )


def boilerplate_kind(line: str, words: int | None = None) -> BoilerplateKind | None:
    """The boilerplate kind of a whitespace-normalised line, or None for possible article text.

    `words` is the line's `word_count` when the caller has it already.
    """
    if not line:
        return None
    if _HAS_WORD.search(line) is None:
        # Separators and ornaments: "* * *", "———", "•".
        return BoilerplateKind.INLINE
    if words is None:
        words = word_count(line)
    if words > 60:
        return None
    lower = line.casefold()
    if "’" in lower or "‘" in lower:
        lower = lower.replace("’", "'").replace("‘", "'")
    kind = None
    if words <= _PHRASE_MAX_WORDS:
        key = (_COUNT.sub("", lower) if lower[-1] in ")]" else lower).strip(_EDGE_CHARS)
        if key and not (key[0].isalnum() and key[-1].isalnum()):
            # Rarer marks around a label: emoji, arrows, bullets not in _EDGE_CHARS.
            key = _EDGES.sub("", key)
        kind = _PHRASES.get(key)
    if kind is None and words <= 20:
        kind = _shape_kind(lower)
    if kind is None and _is_notice(lower):
        kind = BoilerplateKind.SECTION
    return kind


def is_boilerplate_line(line: str) -> bool:
    """True when a whitespace-normalised line is page furniture, never article text."""
    return boilerplate_kind(line) is not None
