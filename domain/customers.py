"""Customers as customer service keeps them: who they are, how to reach them, what they
agreed to, and the terms they buy on.

A customer record is what a person enters on the console's form, a system posts to
``/api/v1/customers`` and a row of ``oms customers import`` holds: flat fields, so a
spreadsheet can carry it. Personal data (names, e-mail, phone, addresses, notes) is
encrypted at rest; every change to a record is audited field by field.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
)
from pydantic_core import PydanticCustomError

from domain.catalogue import PaymentTerms, Standing
from domain.credit_scoring import (
    InvoiceMoney,
    days_late,
    is_overdue,
    settled_by,
    still_owed,
)
from domain.messages import InboundMessage, whole_json_number
from domain.money import CreditAmount, CurrencyCode, to_cents, typed_amount
from domain.orders import Channel, OrderStatus

NOT_KEPT = (OrderStatus.REJECTED.value, OrderStatus.CANCELLED.value)
"""Order statuses that do not count as a purchase (spend, history, classification)."""

CUSTOMER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
"""A customer id: letters, digits, ``.``, ``_``, ``-``; at most 64; a letter or digit first."""

_EMAIL_CHAR = r"[^@ \x00-\x1f\x7f-\x9f]"
EMAIL_PATTERN = rf"^{_EMAIL_CHAR}{{1,64}}@{_EMAIL_CHAR}{{1,190}}\.[^@ .\x00-\x1f\x7f-\x9f]{{2,63}}$"
r"""An e-mail address as far as a form can tell (the mail server has the last word): no
spaces or control characters, spelt out rather than ``\s`` so that every regex dialect
reads it alike (Python's ``\s`` takes U+0085, JavaScript's U+FEFF)."""

ERASED_EMAIL = "erased@erased.invalid"
"""The address an erased customer keeps (``.invalid`` is reserved: nothing is ever sent
there), the one address on a reserved domain a record may hold."""


NOT_A_MAIL_ADDRESS = (
    "not an e-mail address a mail server takes; write it as name@example.org, "
    'without spaces, quotes or <>(),;:"[]\\'
)


def mail_address_problem(address: str) -> str | None:
    """Why a mail server would not take ``address``, or None when it would: RFC 5322's
    characters before the ``@`` (internationalised ones too), a domain name after it that
    is not reserved (checked by the ``email-validator`` package, without asking DNS);
    an empty address is left to the field's own rule."""
    if not address or address == ERASED_EMAIL:
        return None
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return NOT_A_MAIL_ADDRESS
    return None


def mail_address(address: str) -> str:
    """``address`` as it was written, when a mail server would take it
    (:func:`mail_address_problem`); a validation error otherwise."""
    if mail_address_problem(address) is not None:
        raise PydanticCustomError("email", NOT_A_MAIL_ADDRESS)
    return address


EmailAddress = Annotated[str, Field(pattern=EMAIL_PATTERN, max_length=254)]
"""An e-mail address as a customer record's shape allows it; whether a mail server takes
it is the record's :meth:`CustomerRecord.problem` (a refusal of the record, as its other
rules across fields, so an address of the right shape is never a malformed document)."""


class CustomerKind(StrEnum):
    """Whether the customer is a business or a private person."""

    COMPANY = "company"
    PERSON = "person"


Line = Annotated[str, Field(max_length=200)]
Code = Annotated[str, Field(max_length=20)]
Country = Annotated[str, Field(pattern=r"^([A-Z]{2})?$")]


class CustomerRecord(InboundMessage):
    """A customer as the console's form, the API and a CSV row carry it."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id: Annotated[str, Field(pattern=CUSTOMER_ID_PATTERN)]
    kind: CustomerKind = CustomerKind.COMPANY
    name: Annotated[str, Field(min_length=1, max_length=200)]
    """Company or person name (personal data)."""
    email: EmailAddress
    """Where order mail and invoices go (personal data)."""
    phone: Annotated[str, Field(pattern=r"^[0-9+()./ -]{0,40}$")] = ""
    contact_person: Line = ""
    """Who to ask for at a company (personal data)."""
    billing_street: Line = ""
    billing_postal_code: Code = ""
    billing_city: Line = ""
    billing_country: Country = ""
    shipping_street: Line = ""
    """Empty: the goods go to the billing address."""
    shipping_postal_code: Code = ""
    shipping_city: Line = ""
    shipping_country: Country = ""
    payment_terms: PaymentTerms = PaymentTerms.PREPAID
    net_days: Annotated[StrictInt, Field(ge=0, le=180), BeforeValidator(whole_json_number)] = 0
    """Days an invoice may stay unpaid (net terms)."""
    credit_limit: CreditAmount = Decimal(0)
    currency: CurrencyCode = "EUR"
    standing: Standing = Standing.GOOD
    active: StrictBool = True
    """False: deactivated; new orders are rejected, the history stays."""
    preferred_channel: Channel | None = None
    """How they like to order (web shop, EDI, phone, fax)."""
    language: Annotated[str, Field(pattern=r"^[a-z]{2}(_[A-Za-z]{2,4})?$")] = "en"
    """The language they are written to in (``en``, ``de``, ``zh_Hant``)."""
    contact_by_email: StrictBool = True
    contact_by_phone: StrictBool = False
    marketing_consent: StrictBool = False
    """They agreed to receive marketing messages (campaigns go only to these)."""
    consent_source: Annotated[str, Field(max_length=100)] = ""
    """How the consent was given (``web shop sign-up``, ``signed form``, ``phone call``)."""
    tags: Annotated[str, Field(max_length=500)] = ""
    """Words separated by spaces or commas (``wholesale, trade-fair-2026``)."""
    notes: Annotated[str, Field(max_length=2000)] = ""
    """Free text for customer service (personal data)."""

    def problem(self) -> str | None:
        """Why this record cannot be kept as it is, beyond its fields' shapes; None when
        it can."""
        if (mail := mail_address_problem(self.email)) is not None:
            return f"email: {mail}"
        if self.marketing_consent and not self.consent_source:
            return "consent_source: say how the marketing consent was given"
        if self.payment_terms is PaymentTerms.NET and self.net_days == 0:
            return "net_days: net terms give the customer at least one day to pay"
        if self.payment_terms is PaymentTerms.PREPAID and self.net_days:
            return "net_days: prepaid customers pay at once (0 days)"
        return None

    _typed_credit_limit = field_validator("credit_limit", mode="before")(typed_amount)

    @field_validator("credit_limit")
    @classmethod
    def _in_cents(cls, amount: Decimal) -> Decimal:
        """``15000`` is kept (and audited) as ``15000.00``."""
        return to_cents(amount)

    @field_validator("tags")
    @classmethod
    def _tags_once_each(cls, tags: str) -> str:
        """Tags separated by commas or spaces, kept as ``a, b`` with each once."""
        return ", ".join(dict.fromkeys(tags.replace(",", " ").split()))


class ContactRecord(InboundMessage):
    """A person to talk to at a customer."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, Field(min_length=1, max_length=200)]
    role: Annotated[str, Field(max_length=64)] = ""
    """What they do for the customer: ``buyer``, ``accounts``, ``goods in``."""
    email: Annotated[
        str, Field(pattern=f"^$|{EMAIL_PATTERN[1:]}", max_length=254), AfterValidator(mail_address)
    ] = ""
    phone: Annotated[str, Field(pattern=r"^[0-9+()./ -]{0,40}$")] = ""


class Contact(ContactRecord):
    """A contact as it is kept (with its number)."""

    id: int


PERSONAL_FIELDS = frozenset(
    {
        "name",
        "email",
        "phone",
        "contact_person",
        "billing_street",
        "billing_postal_code",
        "billing_city",
        "shipping_street",
        "shipping_postal_code",
        "shipping_city",
        "notes",
    }
)
"""The fields that are personal data: encrypted at rest, pseudonymised for analysts,
erased with the customer."""


class CustomerChange(BaseModel):
    """One field of a customer changed: who, when, old and new value."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    actor: str
    field: str
    old: str
    new: str


class OrderSummary(BaseModel):
    """One order in a customer's purchase history."""

    order_id: str
    created_at: datetime
    channel: str
    status: str
    total: Decimal
    currency: str


class ProductShare(BaseModel):
    """A product the customer buys, by what they spent on it."""

    sku: str
    name: str
    category: str
    units: int
    spend: Decimal


class PaymentBehaviour(BaseModel):
    """How a customer pays their invoices, by the credit score's rule: an invoice is paid
    when the money received first covers what the customer owed
    (:func:`domain.credit_scoring.settled_at`), not when its receipt is written."""

    invoices: int
    """Invoices the customer owed (voided ones left out: nobody owed them)."""
    paid: int
    """Invoices settled by today."""
    average_days_to_pay: float | None
    """From the invoice to when it was settled, over paid invoices (0 for money received
    before the invoice, as a prepaid order's); None before the first."""
    paid_late: int
    """Paid invoices settled after their due date."""
    overdue: int
    """Invoices past their due date today and not settled (a partly paid one too)."""
    overdue_amount: Decimal
    """What is still owed on the overdue invoices."""
    highest_dunning_rung: int
    """0: never reminded; 1 reminder, 2 finance, 3 collections."""


def payment_behaviour(
    invoices: Sequence[InvoiceMoney], today: date, highest_dunning_rung: int
) -> PaymentBehaviour:
    """A customer's payment behaviour up to ``today`` from their invoices and the money
    that moved for them."""
    to_pay: list[float] = []
    late = overdue = 0
    overdue_amount = Decimal(0)
    for invoice in invoices:
        if invoice.voided:
            continue
        if (settled := settled_by(invoice, today)) is not None:
            to_pay.append(max(0.0, (settled - invoice.issued_at).total_seconds() / 86400))
            late += days_late(invoice, settled) > 0
        elif is_overdue(invoice, today):
            overdue += 1
            overdue_amount += still_owed(invoice, today)
    return PaymentBehaviour(
        invoices=sum(1 for invoice in invoices if not invoice.voided),
        paid=len(to_pay),
        average_days_to_pay=sum(to_pay) / len(to_pay) if to_pay else None,
        paid_late=late,
        overdue=overdue,
        overdue_amount=overdue_amount,
        highest_dunning_rung=highest_dunning_rung,
    )


class CustomerHistory(BaseModel):
    """What a customer bought and how they pay: the customer view's figures."""

    orders: int
    """Every order recorded, rejected and cancelled ones included."""
    orders_kept: int
    """Orders neither rejected nor cancelled."""
    spend: Decimal
    """The total of the orders kept."""
    first_order_at: datetime | None
    last_order_at: datetime | None
    usual_interval_days: float | None
    """The median number of days between orders kept; None with fewer than three."""
    top_channel: str | None
    recent: list[OrderSummary]
    top_products: list[ProductShare]
    top_categories: list[tuple[str, Decimal]]
    payments: PaymentBehaviour
