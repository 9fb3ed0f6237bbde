"""Pages rendered on the server in the reader's language, with the locale's formats."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from functools import cache
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from domain.access import Locale
from domain.wording import N_

from . import i18n
from .labels import (
    ACTION_DONE_LABELS,
    ACTION_LABELS,
    ACTOR_LABELS,
    ADDRESS_LABELS,
    ALERT_LABELS,
    CAMPAIGN_LABELS,
    CARE_LABELS,
    CATALOGUE_FIELD_LABELS,
    CATALOGUE_KIND_LABELS,
    CHANNEL_LABELS,
    COMPLAINT_DONE_LABELS,
    COMPLAINT_EVENT_LABELS,
    COMPLAINT_LABELS,
    CUSTOMER_CODE_LABELS,
    CUSTOMER_FIELD_LABELS,
    CUSTOMER_LANGUAGES,
    EVENT_LABELS,
    FORECAST_METHOD_LABELS,
    METHOD_LABELS,
    MOVEMENT_LABELS,
    PARCEL_LABELS,
    PERMISSION_LABELS,
    PROPOSAL_LABELS,
    REASON_LABELS,
    RECORD_CHOICE_LABELS,
    REMEDY_STATUS_LABELS,
    REPLENISHMENT_DONE,
    RESERVATION_LABELS,
    RESOLUTION_LABELS,
    ROLE_LABELS,
    ROOT_CAUSE_LABELS,
    SEGMENT_LABELS,
    SOURCING_LABELS,
    STATUS_LABELS,
    STOCKTAKE_DONE,
    STOCKTAKE_LABELS,
    SUPPLY_LABELS,
    SYSTEM_ROLE_LABELS,
    WORKLIST_LABELS,
)

DISPLAY_ZONE: ContextVar[tzinfo] = ContextVar("oms_display_zone", default=UTC)
"""The time zone of the request being answered (the console's setting; see web.app)."""


def local_moment(text: str, zone: tzinfo) -> datetime:
    """A date and time as a form's ``datetime-local`` field sends it (``2026-12-01T09:30``),
    read in ``zone``; ValueError naming the field when it is not one."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"new_deadline: {text!r} is not a date and time") from None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


@cache
def templates(locale: Locale) -> Environment:
    """The page templates, translated into ``locale``, with its formats as filters."""
    environment = Environment(
        loader=PackageLoader("web", "templates"),
        autoescape=select_autoescape(),
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_translations(i18n.translations(locale), newstyle=True)  # type: ignore[attr-defined]
    environment.filters["when"] = lambda moment: i18n.when(moment, locale, DISPLAY_ZONE.get())
    environment.filters["words"] = lambda wording: i18n.words(wording, locale, DISPLAY_ZONE.get())
    environment.filters["day"] = lambda on: i18n.day(on, locale)
    environment.filters["language_name"] = lambda code: i18n.language_name(code, locale)
    environment.filters["since"] = lambda moment: i18n.since(moment, locale)
    environment.filters["number"] = lambda value: i18n.number(value, locale)
    environment.filters["money"] = lambda amount, currency: i18n.money(
        Decimal(amount), currency, locale
    )
    environment.globals["locale"] = locale
    environment.globals["role_labels"] = ROLE_LABELS
    environment.globals["permission_labels"] = PERMISSION_LABELS
    environment.globals["worklist_labels"] = WORKLIST_LABELS
    environment.globals["channel_labels"] = CHANNEL_LABELS
    environment.globals["forecast_method_labels"] = FORECAST_METHOD_LABELS
    environment.globals["action_labels"] = ACTION_LABELS
    environment.globals["action_done_labels"] = ACTION_DONE_LABELS
    environment.globals["resolution_labels"] = RESOLUTION_LABELS
    environment.globals["address_labels"] = ADDRESS_LABELS
    environment.globals["status_labels"] = STATUS_LABELS
    environment.globals["event_labels"] = EVENT_LABELS
    environment.globals["system_role_labels"] = SYSTEM_ROLE_LABELS
    environment.globals["reason_labels"] = REASON_LABELS
    environment.globals["alert_labels"] = ALERT_LABELS
    environment.globals["proposal_labels"] = PROPOSAL_LABELS
    environment.globals["method_labels"] = METHOD_LABELS
    environment.globals["replenishment_done"] = REPLENISHMENT_DONE
    environment.globals["supply_labels"] = SUPPLY_LABELS
    environment.globals["parcel_labels"] = PARCEL_LABELS
    environment.globals["reservation_labels"] = RESERVATION_LABELS
    environment.globals["stocktake_labels"] = STOCKTAKE_LABELS
    environment.globals["stocktake_done"] = STOCKTAKE_DONE
    environment.globals["field_labels"] = CATALOGUE_FIELD_LABELS
    environment.globals["kind_labels"] = CATALOGUE_KIND_LABELS
    environment.globals["customer_field_labels"] = CUSTOMER_FIELD_LABELS
    environment.globals["segment_labels"] = SEGMENT_LABELS
    environment.globals["customer_code_labels"] = CUSTOMER_CODE_LABELS
    environment.globals["movement_labels"] = MOVEMENT_LABELS
    environment.globals["sourcing_labels"] = SOURCING_LABELS
    environment.globals["record_choice_labels"] = RECORD_CHOICE_LABELS
    environment.globals["actor_labels"] = ACTOR_LABELS
    # A label's colon before what follows: full-width after Chinese words.
    environment.globals["colon"] = i18n.translations(locale).gettext(N_(": "))
    environment.globals["customer_languages"] = CUSTOMER_LANGUAGES
    environment.globals["care_labels"] = CARE_LABELS
    environment.globals["complaint_labels"] = COMPLAINT_LABELS
    environment.globals["complaint_event_labels"] = COMPLAINT_EVENT_LABELS
    environment.globals["complaint_done_labels"] = COMPLAINT_DONE_LABELS
    environment.globals["remedy_status_labels"] = REMEDY_STATUS_LABELS
    environment.globals["campaign_labels"] = CAMPAIGN_LABELS
    environment.globals["root_cause_label"] = lambda code, label: root_cause_label(
        code, label, locale
    )
    environment.globals["locales"] = list(Locale)
    return environment


def root_cause_label(code: str, label: str, locale: Locale) -> str:
    """A root cause's label in ``locale``: the installed ones translated while they read as
    installed, one staff wrote as written."""
    if ROOT_CAUSE_LABELS.get(code) == label:
        return i18n.translations(locale).gettext(label)
    return label


def render(name: str, locale: Locale, status_code: int = 200, **context: Any) -> HTMLResponse:
    """The page ``name`` in ``locale``."""
    html = templates(locale).get_template(name).render(**context)
    return HTMLResponse(html, status_code=status_code)
