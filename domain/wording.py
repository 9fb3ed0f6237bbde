"""Sentences for people, kept as a message and its arguments, read in each reader's language.

What the workflows, activities and reviews write for people (an order's timeline, what
it waits for, why a parcel needs a decision, a credit score's reasons) is a
:class:`Wording`: its English message, which is also the key of the translation
catalogue (gettext's ``msgid``), and the arguments that fill it. The console renders it
in the reader's language (``web.i18n.words``); the CLI, the API and the Temporal Web UI
get the English sentence (:meth:`Wording.english`), kept beside it in a plain field.

Arguments are of five kinds so that each is shown as the reader expects:

- ``args``: values shown as they are (ids, SKUs, counts, amounts, what a person typed);
- ``terms``: words the catalogue translates too (a parcel state, a stage, a kind);
- ``moments``: times, shown in the console's time zone and the reader's format;
- ``days``: calendar days (a stock-out day, a due date), shown in the reader's format and
  never moved by a time zone;
- ``parts``: whole wordings inside this one (``{target}: next escalation moved``).

Mark every message with :func:`N_` where it is written, so the catalogue extraction
(``pybabel extract``, ``tests/test_translations.py``) finds it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "mark for translation only"
    """Mark ``message`` for the catalogue; it is translated where it is shown."""
    return message


class Wording(BaseModel):
    """A sentence for people: a catalogue message with ``%(name)s`` placeholders and its
    arguments."""

    model_config = ConfigDict(frozen=True)

    message: str
    args: dict[str, str | int | Decimal] = {}
    terms: dict[str, str] = {}
    moments: dict[str, datetime] = {}
    parts: dict[str, Wording] = {}
    days: dict[str, date] = {}

    def render(
        self,
        translate: Callable[[str], str],
        moment: Callable[[datetime], str],
        day: Callable[[date], str] = date.isoformat,
    ) -> str:
        """The sentence with ``translate`` for the message and terms, ``moment`` for times
        and ``day`` for calendar days.

        A message the catalogue lacks, or whose placeholders do not match the arguments
        (a wording stored by an older release), falls back to the English sentence
        rather than failing the page."""
        values: dict[str, object] = {**self.args}
        values.update({name: translate(term) for name, term in self.terms.items()})
        values.update({name: moment(at) for name, at in self.moments.items()})
        values.update({name: day(on) for name, on in self.days.items()})
        values.update(
            {name: part.render(translate, moment, day) for name, part in self.parts.items()}
        )
        try:
            return translate(self.message) % values
        except (KeyError, ValueError, TypeError):
            return self.english()

    def english(self) -> str:
        """The sentence in English, times and days in ISO 8601 (for logs, the CLI and the API)."""
        values: dict[str, object] = {**self.args, **self.terms}
        values.update({name: at.isoformat() for name, at in self.moments.items()})
        values.update({name: on.isoformat() for name, on in self.days.items()})
        values.update({name: part.english() for name, part in self.parts.items()})
        return self.message % values

    def __str__(self) -> str:
        return self.english()


def words(message: str, **args: str | int | Decimal) -> Wording:
    """A wording with plain arguments only (the common case)."""
    return Wording(message=message, args=args)


class WordedError(ValueError):
    """A refusal of a validator whose sentence people read in their language: its English
    (``str``, what pydantic and the API say) is the wording's, and the console shows the
    wording itself."""

    def __init__(self, wording: Wording) -> None:
        super().__init__(wording.english())
        self.wording = wording
