"""Customer records put in, changed and read out, each change audited field by field (who,
when, old → new). Customers are never deleted: one is deactivated (``active`` false) and
keeps its history; personal data leaves only by erasure."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.customers import Contact, ContactRecord, CustomerChange, CustomerRecord
from persistence.database import Database
from persistence.models import Customer, CustomerChangeRow, CustomerContact

from .catalogue import KEYS_PER_QUERY, CatalogueRecordsError, Imported, Loaded, RecordChanged
from .records import utcnow

AUDITED = tuple(name for name in CustomerRecord.model_fields if name != "id")
"""The fields whose changes are recorded (the id never changes)."""


def save_customers(db: Database, records: Sequence[CustomerRecord], actor: str) -> Loaded:
    """Create the customers that are new and update those that differ, in one transaction,
    auditing every changed field as ``actor``. Refuses them all
    (:class:`CatalogueRecordsError`, each problem with the record's position) when a
    record breaks a rule of its own or names a customer twice."""
    with db.transaction() as session:
        return save_customers_in(session, records, actor)


def save_customers_in(session: Session, records: Sequence[CustomerRecord], actor: str) -> Imported:
    """Save customers within a transaction (see :func:`save_customers`), naming the fields
    each update changed."""
    problems = [(i, why) for i, record in enumerate(records) if (why := record.problem())]
    first: dict[str, int] = {}
    for index, record in enumerate(records):
        if record.id in first:
            problems.append(
                (index, f"the same customer {record.id} as record {first[record.id] + 1}")
            )
        first.setdefault(record.id, index)
    if problems:
        raise CatalogueRecordsError(sorted(problems))
    created = unchanged = 0
    changes = []
    now = utcnow()
    for record in records:
        outcome, fields = _save(session, record, actor, now)
        created += outcome == "created"
        unchanged += outcome == "unchanged"
        if fields and outcome == "updated":
            changes.append(RecordChanged(record.id, fields))
    return Imported(
        created=created, updated=len(changes), unchanged=unchanged, changes=tuple(changes)
    )


def save_in_session(session: Session, record: CustomerRecord, actor: str, now: datetime) -> str:
    """Create or update one customer within a transaction, auditing each changed field;
    ``created``, ``updated`` or ``unchanged``."""
    return _save(session, record, actor, now)[0]


def _save(
    session: Session, record: CustomerRecord, actor: str, now: datetime
) -> tuple[str, tuple[str, ...]]:
    row = session.get(Customer, record.id)
    if row is None:
        session.add(_new_row(record, now))
        session.flush()
        _audit(session, record.id, actor, now, {}, _values(record))
        return "created", ()
    before = _values(customer_record(row))
    after = _values(record)
    if before == after:
        return "unchanged", ()
    _apply(row, record, now)
    _audit(session, record.id, actor, now, before, after)
    return "updated", tuple(name for name in AUDITED if before[name] != after[name])


def customers_by_id(
    session: Session, ids: Collection[tuple[str, ...]]
) -> dict[tuple[str, ...], CustomerRecord]:
    """The records of the customers ``ids`` name (keys of one id), locked until the
    transaction ends so that an import's merge is not overtaken by another change."""
    wanted = sorted({key[0] for key in ids})
    found: dict[tuple[str, ...], CustomerRecord] = {}
    for start in range(0, len(wanted), KEYS_PER_QUERY):
        chunk = wanted[start : start + KEYS_PER_QUERY]
        rows = session.scalars(select(Customer).where(Customer.id.in_(chunk)).with_for_update())
        found.update({(row.id,): customer_record(row) for row in rows})
    return found


def customer_record(row: Customer) -> CustomerRecord:
    """The record of a customer row, as a form or an export shows it."""
    values = {name: getattr(row, name) for name in CustomerRecord.model_fields}
    try:
        return CustomerRecord.model_validate(values)
    except ValidationError:  # written before these rules (a seeded row): shown as it is
        return CustomerRecord.model_construct(**values)


def find_customer(db: Database, customer_id: str) -> CustomerRecord | None:
    """One customer's record, or None when there is no such customer."""
    with db.reading() as session:
        row = session.get(Customer, customer_id)
        return None if row is None else customer_record(row)


def customer_records(db: Database) -> list[CustomerRecord]:
    """Every customer's record, by id (``oms customers export``)."""
    with db.reading() as session:
        return [
            customer_record(row) for row in session.scalars(select(Customer).order_by(Customer.id))
        ]


def customer_changes(db: Database, customer_id: str, *, limit: int = 200) -> list[CustomerChange]:
    """The audit of one customer's record, newest first."""
    with db.reading() as session:
        rows = session.scalars(
            select(CustomerChangeRow)
            .where(CustomerChangeRow.customer_id == customer_id)
            .order_by(CustomerChangeRow.id.desc())
            .limit(limit)
        )
        return [
            CustomerChange(
                at=row.at, actor=row.actor, field=row.field, old=row.old_value, new=row.new_value
            )
            for row in rows
        ]


def _values(record: CustomerRecord) -> dict[str, str]:
    """Each audited field as the audit writes it."""
    dumped = record.model_dump(mode="json")
    return {name: _text(dumped[name]) for name in AUDITED}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _new_row(record: CustomerRecord, now: datetime) -> Customer:
    row = Customer(id=record.id, created_at=now)
    _apply(row, record, now)
    return row


def _apply(row: Customer, record: CustomerRecord, now: datetime) -> None:
    if record.marketing_consent and not row.marketing_consent:
        row.consent_at = now
    elif not record.marketing_consent:
        row.consent_at = None
    for name in AUDITED:
        value = getattr(record, name)
        setattr(row, name, value.value if hasattr(value, "value") else value)
    row.updated_at = now


def _audit(
    session: Session,
    customer_id: str,
    actor: str,
    now: datetime,
    before: dict[str, str],
    after: dict[str, str],
) -> None:
    session.add_all(
        CustomerChangeRow(
            customer_id=customer_id,
            at=now,
            actor=actor,
            field=name,
            old_value=before.get(name, ""),
            new_value=value,
        )
        for name, value in after.items()
        if before.get(name, "") != value
    )


def customer_contacts(db: Database, customer_id: str) -> list[Contact]:
    """The people to talk to at a customer, in the order they were added."""
    with db.reading() as session:
        rows = session.scalars(
            select(CustomerContact)
            .where(CustomerContact.customer_id == customer_id)
            .order_by(CustomerContact.id)
        )
        return [
            Contact(id=r.id, name=r.name, role=r.role, email=r.email, phone=r.phone) for r in rows
        ]


def add_contact(db: Database, customer_id: str, contact: ContactRecord, actor: str) -> Contact:
    """Add a contact to a customer, audited (field ``contact``)."""
    with db.transaction() as session:
        if session.get(Customer, customer_id) is None:
            raise CatalogueRecordsError([(0, f"no customer {customer_id!r}")])
        row = CustomerContact(customer_id=customer_id, **contact.model_dump())
        session.add(row)
        session.flush()
        _audit(session, customer_id, actor, utcnow(), {}, {"contact": _contact_text(contact)})
        return Contact(id=row.id, **contact.model_dump())


def remove_contact(db: Database, customer_id: str, contact_id: int, actor: str) -> bool:
    """Remove one of a customer's contacts, audited; False when there is no such contact."""
    with db.transaction() as session:
        row = session.get(CustomerContact, contact_id)
        if row is None or row.customer_id != customer_id:
            return False
        old = _contact_text(ContactRecord.model_validate(_contact_values(row)))
        session.delete(row)
        _audit(session, customer_id, actor, utcnow(), {"contact": old}, {"contact": ""})
        return True


def _contact_values(row: CustomerContact) -> dict[str, str]:
    return {"name": row.name, "role": row.role, "email": row.email, "phone": row.phone}


def _contact_text(contact: ContactRecord) -> str:
    return " · ".join(
        part for part in (contact.name, contact.role, contact.email, contact.phone) if part
    )
