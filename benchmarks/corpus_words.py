"""Word, sentence and widget pools of the synthetic newsflow corpus, per page language.

Owns the vocabulary `benchmarks.corpus` draws from: sentence and headline templates with
slots ({P} person, {L} last name, {place}, {org}, {topic}, {action}, {n}, {day}, {q}/{qc}
quotes, {a} apostrophe), publishers, widget lines by position, and how ages and dates are
written. Data only.
"""

from __future__ import annotations

from dataclasses import dataclass


def _w(text: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(text.split(sep))


FIRST_NAMES = _w(
    "Anna Boris Carla Dmitry Elena Farid Greta Hassan Irina Jonas Karim Lena Marco Nadia Oleg "
    "Paula Rafael Sofia Tomas Ursula Viktor Wanda Yusuf Zoran Amir Beatriz Chen Daria Emil Fatima"
)
LAST_NAMES = _w(
    "Petrov Keller Moreau Novak Haddad Lindqvist Romero Okafor Brandt Castillo Ivanova Fischer "
    "Dubois Kowalski Nakamura Rossi Santos Weber Yilmaz Zhang Marin Horvat Berger Laurent Costa "
    "Sokolov Varga Jansen Silva Mendez"
)
PLACES = _w(
    "Minsk|Vilnius|Warsaw|Berlin|Madrid|Lyon|Ankara|Cairo|Nairobi|Lagos|Delhi|Jakarta|Manila|"
    "Lima|Bogota|Quito|Oslo|Riga|Tbilisi|Baku|Almaty|Tunis|Dakar|Accra|Hanoi|Seoul|Osaka|"
    "Porto|Naples|Gdansk|Krakow|Sevilla|Marseille|Hamburg|Geneva",
    "|",
)
ORGS = _w(
    "the Defense Ministry|the central bank|the Interior Ministry|the electoral commission|"
    "the state energy company|the national rail operator|the health ministry|the UN agency|"
    "the port authority|the customs service|the anti-corruption bureau|the city council|"
    "the farmers' union|the teachers' union|the supreme court|the weather service",
    "|",
)
WEEKDAYS_EN = _w("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")


@dataclass(frozen=True, slots=True)
class Language:
    """Everything the generator writes in one language."""

    code: str
    sentences: tuple[str, ...]
    titles: tuple[str, ...]
    topics: tuple[str, ...]
    actions: tuple[str, ...]
    orgs: tuple[str, ...]
    weekdays: tuple[str, ...]
    months: tuple[str, ...]
    updates: tuple[str, ...]
    fixes: tuple[tuple[str, str], ...]
    """Word swaps for a one-word fix: (" said ", " stated ")."""
    publishers: tuple[str, ...]
    top: tuple[str, ...]
    middle: tuple[str, ...]
    related: tuple[str, ...]
    between: tuple[str, ...]
    footer: tuple[str, ...]
    stray: tuple[str, ...]
    """Short furniture lines no lexicon lists; they must still stay out of bodies."""
    minutes: tuple[str, ...]
    hours: tuple[str, ...]
    one_hour: tuple[str, ...]
    days: tuple[str, ...]
    yesterday: str
    now: str
    dates: tuple[str, ...]
    """Formats with {d}, {m} (number), {mon} (month name), {y}."""


def _t(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.strip().split("\n") if line.strip())


ENGLISH = Language(
    code="en",
    sentences=_t("""
{P} said on {day} that {org} would {action} before the end of the month.
The announcement comes amid growing pressure over {topic} in {place}.
According to {org}, at least {n} people have been affected so far.
{q}We will not accept any attempt to {action},{qc} {L} told reporters in {place}.
Officials in {place} declined to comment on the report, citing the ongoing review.
Critics argue that the plan to {action} does little to address {topic}.
{L} has repeatedly called for talks on {topic} since the spring.
The move was welcomed by {org}, which described it as {q}a step in the right direction.{qc}
Local media reported that {n} officials were questioned over {topic} on {day}.
Analysts expect {topic} to dominate the agenda when ministers meet in {place} next week.
{org} estimated the cost of the measures at {n} million dollars.
Earlier this year, {L} warned that {topic} could spill over into neighbouring regions.
The government in {place} has not said whether it will {action}.
Protesters gathered outside the parliament in {place} on {day} to demand action on {topic}.
The talks lasted for {n} hours, according to a statement released by {org}.
{P} is expected to {action} in the coming days, two sources familiar with the matter said.
A spokesperson for {org} said the situation in {place} remained tense but under control.
Neither side has released details of the deal, and it is unclear whether {org} will {action}.
Opposition leaders accused {L} of using {topic} to distract from problems at home.
{q}This is about trust, not politics,{qc} {L} wrote on social media late on {day}.
Residents of {place} said they had been waiting for weeks for a clear answer on {topic}.
The decision to {action} was first reported by a regional newspaper on {day}.
{L}{a}s office said the measures would be reviewed again in {n} days.
Business groups in {place} warned that delays over {topic} were already costing jobs.
The ministry did not specify how many of the {n} cases had been resolved.
International observers urged all parties to avoid steps that could worsen {topic}.
{org} said it had received more than {n} complaints since the start of the year.
A parliamentary committee will hold a hearing on {topic} on {day}, its chair confirmed.
"""),
    titles=_t("""
{L} vows to {action} amid {topic}
{place} moves to {action}
{org_cap} warns of {topic} in {place}
{n} detained as {topic} sparks protests in {place}
{L} says {org} will {action}
Talks on {topic} stall in {place}
{place} braces for new row over {topic}
{L}: {q}We will {action}{qc}
{org_cap} to {action} after {topic} (VIDEO)
Is {place} ready to {action}?
{place} officials deny report on {topic}
{L}{a}s plan to {action} faces backlash
What {topic} means for {place}
{n} questioned over {topic} in {place}
"""),
    topics=_t("""
budget talks
ceasefire negotiations
rising energy prices
the election campaign
a corruption inquiry
the trade agreement
flood relief
the pension reform
a cyberattack on state servers
the heatwave
grain exports
the railway strike
border security
interest rates
the mining dispute
a prisoner exchange
the housing shortage
wildfires near the capital
the drone programme
water shortages
"""),
    actions=_t("""
extend the deadline
raise taxes on imports
open an investigation
send additional troops
cut fuel subsidies
release the detainees
suspend the talks
approve emergency funding
ban the planned march
restore power to the region
expand the sanctions list
hold a referendum
review the contract
close the border crossing
double the aid package
"""),
    orgs=tuple(ORGS),
    weekdays=tuple(WEEKDAYS_EN),
    months=_w(
        "January February March April May June July August September October November December"
    ),
    updates=_t("""
UPDATE: {org} later confirmed that {n} more people had been affected.
The ministry issued a correction on {day}, saying the figures would be revised.
{L} is due to address parliament on the issue later this week.
"""),
    fixes=((" said ", " stated "), (" officials ", " authorities "), (" warned ", " cautioned ")),
    publishers=(
        "Russia Today",
        "Reuters",
        "BBC News",
        "Al Jazeera",
        "The Guardian",
        "Associated Press",
        "AFP",
        "Sky News",
        "Bloomberg",
        "Euronews",
        "The Times of India",
        "France 24",
        "rt.com",
        "NDTV",
    ),
    top=_t("""
Skip to content
Menu
Home | World | Business | Tech | Sport
Search
Sign in
"""),
    middle=_t("""
DETAILS TO FOLLOW
Hashtags
Try Our AI Features
Explore what {site} AI can do for you:
Comments
No comments yet...
Be the first to comment
{n} Comments
Share this article
Advertisement
Trending now
Most read
You may also like
Tags: {topic}, {place}
#{place} #Politics
"""),
    related=_t("""
Related Articles
Related Stories
More from {site}
Latest news
"""),
    between=_t("""
Advertisement
Read more
Share this article
Story continues below advertisement
"""),
    footer=_t("""
Load more
Show more
Sign up for our newsletter
Get the top stories in your inbox every morning.
© 2025 {site}. All rights reserved.
We use cookies to improve your experience. By using this site you accept our Cookie Policy.
Privacy Policy | Terms of Use | Contact Us
Back to top
Follow us on Telegram
Download the {site} app
"""),
    stray=(
        "Top picks for you",
        "Open in app",
        "Daily briefing",
        "Editor's choice",
        "Watch live coverage",
    ),
    minutes=("{n} minutes ago", "{n} min ago", "{n} mins ago", "{n}m", "{n}m ago"),
    hours=("{n} hours ago", "{n}h", "{n} hrs ago", "{n}h ago"),
    one_hour=("an hour ago", "1 hour ago", "1h"),
    days=("{n} days ago", "{n}d"),
    yesterday="yesterday",
    now="just now",
    dates=("{mon3} {d}, {y}", "{d} {mon} {y}", "{y}-{m:02d}-{d:02d}", "{mon} {d}, {y}"),
)

SPANISH = Language(
    code="es",
    sentences=_t("""
{P} afirmó el {day} que {org} va a {action} antes de fin de mes.
El anuncio llega en medio de una creciente presión por {topic} en {place}.
Según {org}, al menos {n} personas se han visto afectadas hasta ahora.
{q}No aceptaremos ningún intento de {action},{qc} dijo {L} a los periodistas en {place}.
Las autoridades de {place} declinaron comentar el informe.
Los críticos sostienen que el plan para {action} no resuelve {topic}.
{L} ha pedido en varias ocasiones un diálogo sobre {topic}.
Medios locales informaron de que {n} funcionarios fueron interrogados el {day}.
Los analistas esperan que {topic} domine la agenda de la próxima reunión en {place}.
{org} calculó el coste de las medidas en {n} millones de euros.
El gobierno de {place} no ha aclarado si va a {action}.
Cientos de manifestantes se concentraron el {day} ante el parlamento de {place}.
Las conversaciones duraron {n} horas, según un comunicado de {org}.
Ninguna de las partes ha publicado los detalles del acuerdo.
La oposición acusó a {L} de usar {topic} para desviar la atención.
Los vecinos de {place} aseguran que llevan semanas esperando una respuesta sobre {topic}.
"""),
    titles=_t("""
{L} promete {action} en plena polémica por {topic}
{place} se dispone a {action}
{org_cap} alerta sobre {topic} en {place}
{n} detenidos en {place} por las protestas sobre {topic}
Se estancan las negociaciones sobre {topic} en {place}
¿Está {place} preparada para {action}?
{L}: {q}Vamos a {action}{qc}
"""),
    topics=_t("""
los presupuestos
el alto el fuego
la subida de la luz
la campaña electoral
una investigación por corrupción
el acuerdo comercial
la reforma de las pensiones
la huelga ferroviaria
la falta de vivienda
los incendios forestales
la sequía
"""),
    actions=_t("""
ampliar el plazo
subir los aranceles
abrir una investigación
recortar las ayudas al combustible
liberar a los detenidos
suspender las negociaciones
aprobar fondos de emergencia
cerrar el paso fronterizo
convocar un referéndum
"""),
    orgs=_t("""
el Ministerio de Defensa
el banco central
la comisión electoral
el ayuntamiento
el sindicato de agricultores
el tribunal supremo
"""),
    weekdays=_w("lunes martes miércoles jueves viernes sábado domingo"),
    months=_w(
        "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"
    ),
    updates=_t("""
ACTUALIZACIÓN: {org} confirmó después que otras {n} personas se vieron afectadas.
{L} comparecerá ante el parlamento a finales de semana.
"""),
    fixes=((" dijo ", " declaró "), (" afirmó ", " aseguró "), (" hasta ahora", " por ahora")),
    publishers=("El País", "El Mundo", "Europa Press", "EFE", "Infobae", "La Vanguardia", "RTVE"),
    top=_t("""
Ir al contenido
Menú
Inicio | Internacional | Economía | Deportes
"""),
    middle=_t("""
Más detalles en breve
Comentarios
Aún no hay comentarios
Compartir
Publicidad
Lo más leído
Te puede interesar
Etiquetas: {topic}, {place}
"""),
    related=_t("""
Noticias relacionadas
Artículos relacionados
Últimas noticias
"""),
    between=_t("""
Publicidad
Leer más
"""),
    footer=_t("""
Cargar más
Suscríbete a nuestro boletín
© 2025 {site}. Todos los derechos reservados.
Utilizamos cookies propias y de terceros para mejorar nuestros servicios.
Síguenos en Telegram
"""),
    stray=("Lo último", "En portada", "Abrir en la app"),
    minutes=("hace {n} minutos", "hace {n} min"),
    hours=("hace {n} horas", "hace {n} h"),
    one_hour=("hace una hora", "hace 1 hora"),
    days=("hace {n} días",),
    yesterday="ayer",
    now="ahora mismo",
    dates=("{d} de {mon} de {y}", "{y}-{m:02d}-{d:02d}"),
)

GERMAN = Language(
    code="de",
    sentences=_t("""
{P} sagte am {day}, {org} werde noch vor Monatsende {action}.
Die Ankündigung kommt inmitten wachsender Kritik an {topic} in {place}.
Nach Angaben von {org} sind bislang mindestens {n} Menschen betroffen.
{q}Wir werden keinen Versuch hinnehmen, {action},{qc} sagte {L} vor Journalisten in {place}.
Die Behörden in {place} wollten sich zu dem Bericht nicht äußern.
Kritiker bemängeln, dass der Plan {topic} nicht löse.
{L} hat wiederholt Gespräche über {topic} gefordert.
Lokale Medien berichteten, am {day} seien {n} Beamte befragt worden.
Beobachter erwarten, dass {topic} das nächste Treffen in {place} bestimmen wird.
{org} bezifferte die Kosten der Maßnahmen auf {n} Millionen Euro.
Die Regierung in {place} ließ offen, ob sie {action} werde.
Am {day} versammelten sich Hunderte Demonstranten vor dem Parlament in {place}.
Die Gespräche dauerten nach Angaben von {org} {n} Stunden.
Keine der beiden Seiten hat Einzelheiten der Vereinbarung veröffentlicht.
Die Opposition warf {L} vor, mit {topic} von Problemen im Inland abzulenken.
Anwohner in {place} warten nach eigenen Angaben seit Wochen auf eine Antwort.
"""),
    titles=_t("""
{L} will trotz Streit über {topic} {action}
{place} will {action}
{org_cap} warnt vor {topic} in {place}
{n} Festnahmen bei Protesten gegen {topic} in {place}
Gespräche über {topic} in {place} festgefahren
Ist {place} bereit, {action}?
{L}: {q}Wir werden {action}{qc}
"""),
    topics=_t("""
den Haushaltsstreit
die Waffenruhe
die steigenden Strompreise
den Wahlkampf
eine Korruptionsaffäre
das Handelsabkommen
die Rentenreform
den Bahnstreik
die Wohnungsnot
die Waldbrände
"""),
    actions=_t("""
die Frist verlängern
die Importzölle erhöhen
eine Untersuchung einleiten
die Treibstoffhilfen kürzen
die Gefangenen freilassen
die Verhandlungen aussetzen
Nothilfen bewilligen
den Grenzübergang schließen
"""),
    orgs=_t("""
das Verteidigungsministerium
die Zentralbank
die Wahlkommission
der Stadtrat
der Bauernverband
das Verfassungsgericht
"""),
    weekdays=_w("Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag"),
    months=_w("Januar Februar März April Mai Juni Juli August September Oktober November Dezember"),
    updates=_t("""
UPDATE: {org} bestätigte später, dass weitere {n} Menschen betroffen sind.
{L} soll sich Ende der Woche im Parlament äußern.
"""),
    fixes=((" sagte ", " erklärte "), (" bislang ", " bisher "), (" Behörden ", " Ämter ")),
    publishers=("Der Spiegel", "Die Zeit", "Tagesschau", "Süddeutsche Zeitung", "FAZ", "n-tv"),
    top=_t("""
Zum Inhalt springen
Menü
Startseite | Politik | Wirtschaft | Sport
"""),
    middle=_t("""
Weitere Details folgen
Kommentare
Noch keine Kommentare
Artikel teilen
Anzeige
Meistgelesen
Das könnte Sie auch interessieren
Themen: {topic}, {place}
"""),
    related=_t("""
Ähnliche Artikel
Weitere Artikel
Neueste Nachrichten
"""),
    between=_t("""
Anzeige
Weiterlesen
"""),
    footer=_t("""
Mehr laden
Newsletter abonnieren
© 2025 {site}. Alle Rechte vorbehalten.
Wir verwenden Cookies, um Ihnen ein besseres Nutzererlebnis zu bieten.
Folgen Sie uns auf Telegram
"""),
    stray=("Im Überblick", "Top-Themen", "In der App öffnen"),
    minutes=("vor {n} Minuten", "vor {n} Min."),
    hours=("vor {n} Stunden", "vor {n} Std."),
    one_hour=("vor einer Stunde",),
    days=("vor {n} Tagen",),
    yesterday="gestern",
    now="gerade eben",
    dates=("{d}. {mon} {y}", "{d:02d}.{m:02d}.{y}"),
)

FRENCH = Language(
    code="fr",
    sentences=_t("""
{P} a déclaré {day} que {org} allait {action} avant la fin du mois.
L{a}annonce intervient sur fond de pression croissante autour de {topic} à {place}.
Selon {org}, au moins {n} personnes ont été touchées jusqu{a}à présent.
{q}Nous n{a}accepterons aucune tentative de {action},{qc} a déclaré {L} à {place}.
Les autorités de {place} n{a}ont pas souhaité commenter le rapport.
Les critiques estiment que le projet ne règle pas {topic}.
{L} a plusieurs fois appelé à un dialogue sur {topic}.
La presse locale rapporte que {n} fonctionnaires ont été interrogés {day}.
Les analystes s{a}attendent à ce que {topic} domine la prochaine réunion à {place}.
{org} a estimé le coût des mesures à {n} millions d{a}euros.
Le gouvernement de {place} n{a}a pas précisé s{a}il allait {action}.
Des centaines de manifestants se sont rassemblés {day} devant le parlement à {place}.
Les discussions ont duré {n} heures, selon un communiqué de {org}.
Aucune des parties n{a}a publié les détails de l{a}accord.
L{a}opposition accuse {L} d{a}utiliser {topic} pour détourner l{a}attention.
Les habitants de {place} disent attendre depuis des semaines une réponse.
"""),
    titles=_t("""
{L} promet de {action} malgré {topic}
{place} s{a}apprête à {action}
{org_cap} met en garde contre {topic} à {place}
{n} interpellations à {place} lors de manifestations contre {topic}
Les négociations sur {topic} au point mort à {place}
{place} est-elle prête à {action} ?
{L} : {q}Nous allons {action}{qc}
"""),
    topics=_t("""
le budget
le cessez-le-feu
la hausse des prix de l{a}énergie
la campagne électorale
une affaire de corruption
l{a}accord commercial
la réforme des retraites
la grève des cheminots
la crise du logement
les incendies de forêt
"""),
    actions=_t("""
prolonger le délai
augmenter les droits de douane
ouvrir une enquête
réduire les aides au carburant
libérer les détenus
suspendre les négociations
débloquer des fonds d{a}urgence
fermer le poste-frontière
"""),
    orgs=_t("""
le ministère de la Défense
la banque centrale
la commission électorale
le conseil municipal
le syndicat agricole
le Conseil constitutionnel
"""),
    weekdays=_w("lundi mardi mercredi jeudi vendredi samedi dimanche"),
    months=_w(
        "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
    ),
    updates=_t("""
MISE À JOUR : {org} a confirmé plus tard que {n} autres personnes étaient touchées.
{L} doit s{a}exprimer devant le parlement en fin de semaine.
"""),
    fixes=(
        (" a déclaré ", " a affirmé "),
        (" estiment ", " jugent "),
        (" autorités ", " services "),
    ),
    publishers=("Le Monde", "Le Figaro", "France 24", "Libération", "BFMTV", "Ouest-France"),
    top=_t("""
Aller au contenu
Menu
Accueil | International | Économie | Sport
"""),
    middle=_t("""
Plus de détails à suivre
Commentaires
Aucun commentaire
Partager cet article
Publicité
Les plus lus
Vous aimerez aussi
Mots-clés : {topic}, {place}
"""),
    related=_t("""
Articles similaires
À lire aussi
Dernières infos
"""),
    between=_t("""
Publicité
Lire la suite
"""),
    footer=_t("""
Charger plus
Inscrivez-vous à notre newsletter
© 2025 {site}. Tous droits réservés.
Nous utilisons des cookies pour améliorer votre expérience sur notre site.
Suivez-nous sur Telegram
"""),
    stray=("L'essentiel", "À la une", "Ouvrir dans l'app"),
    minutes=("il y a {n} minutes", "il y a {n} min"),
    hours=("il y a {n} heures", "il y a {n} h"),
    one_hour=("il y a une heure",),
    days=("il y a {n} jours",),
    yesterday="hier",
    now="à l'instant",
    dates=("{d} {mon} {y}", "le {d} {mon} {y}"),
)

LANGUAGES = (ENGLISH, SPANISH, GERMAN, FRENCH)
SITES = (
    "Daily8",
    "NewsNow Hub",
    "Aggregata",
    "PressDigest",
    "FeedLine 24",
    "Worldwire",
    "Noticias Ya",
    "Nachrichtenblick",
    "InfoFlash",
)
