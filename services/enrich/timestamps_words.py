"""The words of written publication times: units, number words, day words, months, zones.

Owns the vocabulary the grammar in `timestamps_formats` looks tokens up in, for the
languages newsflow sees most (en, es, fr, de, pt, it, ru, nl, plus zh/ja/ko ages).
Adding a language is adding words here. Keys are lower case.
"""

from __future__ import annotations

from datetime import UTC, timedelta, timezone
from typing import Final


def word_list(text: str) -> tuple[str, ...]:
    """The space-separated words of a vocabulary string (easier to read than a literal list)."""
    return tuple(text.split())


def _phrases(text: str) -> tuple[str, ...]:
    return tuple(text.split("|"))


# Ages beyond this are history in a title ("500 years ago"), not a publication age.
MAX_AGE: Final = timedelta(days=365 * 100)

_UNIT_WORDS: Final[dict[timedelta, tuple[str, ...]]] = {
    timedelta(seconds=1): word_list(
        "s sec secs second seconds segundo segundos seconde secondes sekunde sekunden sek "
        "secondo secondi секунда секунду секунды секунд сек seconden 秒 초"
    ),
    timedelta(minutes=1): word_list(
        "m min mins minute minutes minuto minutos mn minuten minuti минута минуту минуты "
        "минут мин minuut 分钟 分鐘 分 분"
    ),
    timedelta(hours=1): word_list(
        "h hr hrs hour hours hora horas heure heures stunde stunden std ora ore час часа "
        "часов ч uur 小时 小時 時間 시간"
    ),
    timedelta(days=1): word_list(
        "d day days día días dia dias jour jours j tag tage tagen giorno giorni день дня "
        "дней dag dagen 天 日 일"
    ),
    timedelta(weeks=1): word_list(
        "w wk wks week weeks semana semanas semaine semaines woche wochen settimana "
        "settimane неделя неделю недели недель weken 周 週 주"
    ),
    # A month is read as 30 days and a year as 365: ages that long are approximate anyway.
    timedelta(days=30): word_list(
        "mo mos mth mths month months mes meses mês mois monat monate monaten mese mesi "
        "месяц месяца месяцев maand maanden 个月 個月 ヶ月 か月 개월"
    ),
    timedelta(days=365): word_list(
        "y yr yrs year years año años an ans année années jahr jahre jahren ano anos anno "
        "anni год года лет jaar jaren 年 년"
    ),
}
UNITS: Final[dict[str, timedelta]] = {
    word: unit for unit, words in _UNIT_WORDS.items() for word in words
}
# Units that mean "one" of them with no number ("час назад": an hour ago). Plurals do not:
# "years ago" alone is vague, and may be the tail of "500 years ago".
SINGLE_UNITS: Final = frozenset(word_list("секунду минуту час день неделю месяц год"))
# Abbreviated units read as an age on their own ("4h", "2d"): compact feeds drop the "ago".
COMPACT_UNITS: Final = frozenset(word_list("s sec m min mins h hr hrs std d w wk wks mo y yr yrs"))

NUMBER_WORDS: Final[dict[str, int]] = {
    **dict.fromkeys(
        word_list("a an one un une una uno um uma ein eine einer einem einen een один одна одну"),
        1,
    ),
    **dict.fromkeys(word_list("two deux zwei dos dois due два две twee"), 2),
    "a couple of": 2,
    "пару": 2,
    # "A few minutes ago" has no exact value; three units is the usual reading.
    **dict.fromkeys(
        _phrases(
            "a few|few|several|quelques|unos|unas|alguns|algumas|alcuni|alcune|einige"
            "|einigen|enkele|несколько"
        ),
        3,
    ),
}

# Single words such as "now" or "ahora" are left out: alone on a line they are as often a
# section name or a publisher ("Agora") as a time.
NOW_PHRASES: Final = frozenset(
    _phrases(
        "just now|right now|moments ago|a moment ago|moment ago|seconds ago|few seconds ago"
        "|ahora mismo|hace un momento|hace unos segundos|à l'instant|a l'instant|à l’instant"
        "|il y a quelques secondes|gerade eben|soeben|vor wenigen sekunden|agora mesmo"
        "|há pouco|pochi secondi fa|proprio ora|только что|zojuist|net nu"
    )
)

# Day words name a calendar day relative to the fetch day: 0 today, 1 yesterday, 2 the day before.
DAY_WORDS: Final[dict[str, int]] = {
    **dict.fromkeys(
        _phrases("today|hoy|aujourd'hui|aujourd’hui|heute|hoje|oggi|сегодня|vandaag"), 0
    ),
    **dict.fromkeys(_phrases("yesterday|ayer|hier|gestern|ontem|ieri|вчера|gisteren"), 1),
    **dict.fromkeys(
        _phrases(
            "day before yesterday|the day before yesterday|anteayer|antier|avant-hier"
            "|vorgestern|anteontem|l'altro ieri|altro ieri|позавчера|eergisteren"
        ),
        2,
    ),
}

_MONTH_NAMES: Final = (
    "jan january janv janvier januar jänner ene enero janeiro gen gennaio янв январь января "
    "januari",
    "feb february fév févr février fevr fevrier februar febrero fev fevereiro febbraio фев "
    "февраль февраля februari",
    "mar march mars märz marz marzo março marco мар март марта maart mrt",
    "apr april avr avril abr abril aprile апр апрель апреля",
    "may mai mayo maio mag maggio май мая mei",
    "jun june juin juni junio junho giu giugno июн июнь июня",
    "jul july juil juillet juli julio julho lug luglio июл июль июля",
    "aug august août aout ago agosto авг август августа augustus",
    "sep sept september septembre set septiembre setiembre setembro settembre сен сент "
    "сентябрь сентября",
    "oct october okt oktober octobre octubre out outubro ott ottobre окт октябрь октября",
    "nov november novembre noviembre novembro ноя нояб ноябрь ноября",
    "dec december dez dezember déc decembre décembre dic diciembre dezembro dicembre дек "
    "декабрь декабря",
)
MONTHS: Final[dict[str, int]] = {
    name: number for number, names in enumerate(_MONTH_NAMES, start=1) for name in names.split()
}

WEEKDAYS: Final = frozenset(
    word_list(
        "mon monday tue tues tuesday wed wednesday thu thur thurs thursday fri friday sat "
        "saturday sun sunday lun lunes mar martes mié miércoles miercoles jue jueves vie "
        "viernes sáb sábado sabado dom domingo lundi mardi mercredi jeudi vendredi samedi "
        "dimanche mo montag di dienstag mi mittwoch do donnerstag fr freitag sa samstag so "
        "sonntag segunda terça terca quarta quinta sexta seg ter qua qui sex lunedì martedì "
        "mercoledì giovedì venerdì sabato domenica пн вт ср чт пт сб вс понедельник вторник "
        "среда четверг пятница суббота воскресенье"
    )
)


def _offset(hours: float) -> timezone:
    return timezone(timedelta(hours=hours))


# Zones that observe daylight saving are tz database keys, resolved on the date itself.
ZONES: Final[dict[str, str | timezone]] = {
    "z": UTC,
    "utc": UTC,
    "gmt": UTC,
    "et": "America/New_York",
    "ct": "America/Chicago",
    "mt": "America/Denver",
    "pt": "America/Los_Angeles",
    "est": _offset(-5),
    "edt": _offset(-4),
    "cst": _offset(-6),
    "cdt": _offset(-5),
    "mst": _offset(-7),
    "mdt": _offset(-6),
    "pst": _offset(-8),
    "pdt": _offset(-7),
    "bst": _offset(1),
    "wet": _offset(0),
    "west": _offset(1),
    "cet": _offset(1),
    "cest": _offset(2),
    "mez": _offset(1),
    "mesz": _offset(2),
    "eet": _offset(2),
    "eest": _offset(3),
    "msk": _offset(3),
    "ist": _offset(5.5),
    "hkt": _offset(8),
    "sgt": _offset(8),
    "jst": _offset(9),
    "kst": _offset(9),
    "aest": _offset(10),
    "aedt": _offset(11),
}
