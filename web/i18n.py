"""The console's languages: gettext catalogues compiled at start, and locale-aware formatting.

Catalogues are ``web/locales/<locale>/LC_MESSAGES/messages.po`` (English is the
source language and needs none). They are compiled in memory when the
application starts, so no binary ``.mo`` file is kept in the repository.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from functools import cache
from io import BytesIO
from pathlib import Path

from babel import Locale as BabelLocale
from babel.dates import format_date, format_datetime, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations

from domain.access import Locale
from domain.wording import Wording

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
TRADITIONAL_TERRITORIES = ("TW", "HK", "MO")
"""Where Chinese is written in traditional characters when a browser names no script."""


@cache
def translations(locale: Locale) -> NullTranslations:
    """The compiled catalogue of ``locale`` (English: the messages as written)."""
    po_file = LOCALES_DIR / locale.value / "LC_MESSAGES" / "messages.po"
    if not po_file.exists():
        return NullTranslations()
    with po_file.open("rb") as source:
        catalog = read_po(source, locale=locale.value)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled)


def negotiate(accept_language: str | None) -> Locale:
    """The best of our languages for a browser's ``Accept-Language`` header (else English)."""
    wanted = []
    for part in (accept_language or "").split(","):
        tag = part.split(";", 1)[0].strip().replace("-", "_")
        if tag:
            wanted.append(tag)
    for tag in wanted:
        try:
            parsed = BabelLocale.parse(tag)
        except (ValueError, TypeError):
            continue
        if parsed.language == "zh" and (
            parsed.script == "Hant" or parsed.territory in ("TW", "HK", "MO")
        ):
            return Locale.TRADITIONAL_CHINESE
        if parsed.language == "en":
            return Locale.ENGLISH
    return Locale.ENGLISH


def language_name(code: str, locale: Locale) -> str:
    """A language code a customer record keeps (``de``, ``zh_Hant``) named in ``locale``'s
    words (``德文``); a code babel does not know is shown as it is."""
    try:
        name = BabelLocale.parse(code).get_display_name(locale.value)
    except (ValueError, TypeError):
        return code
    return name or code


def when(moment: datetime | None, locale: Locale, zone: tzinfo = UTC) -> str:
    """A timestamp in ``zone`` as people of ``locale`` write it (medium length), or nothing."""
    if moment is None:
        return ""
    return format_datetime(moment, "medium", tzinfo=zone, locale=locale.value)


def day(on: date | None, locale: Locale) -> str:
    """A calendar day as people of ``locale`` write it (medium length), or nothing."""
    if on is None:
        return ""
    return format_date(on, "medium", locale=locale.value)


def since(moment: datetime | None, locale: Locale) -> str:
    """How long ago ``moment`` was, in the locale's words (``3 hours``), or nothing."""
    if moment is None:
        return ""
    return format_timedelta(datetime.now(UTC) - moment, threshold=1.5, locale=locale.value)


def number(value: int | Decimal, locale: Locale) -> str:
    """A number with the locale's grouping and decimal sign."""
    return format_decimal(value, locale=locale.value)


def money(amount: Decimal, currency: str, locale: Locale) -> str:
    """An amount with its currency, as the locale writes it."""
    return format_currency(amount, currency, locale=locale.value)


def words(wording: Wording | None, locale: Locale, zone: tzinfo = UTC) -> str:
    """A wording in ``locale``, its times in ``zone`` (nothing for None)."""
    if wording is None:
        return ""
    return wording.render(
        translations(locale).gettext,
        lambda moment: when(moment, locale, zone),
        lambda on: day(on, locale),
    )
