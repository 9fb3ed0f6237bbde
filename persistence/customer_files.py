"""Customers from and to CSV files (``oms customers import|export``, the console's upload):
one row per customer, the columns the fields of :class:`domain.customers.CustomerRecord`.
As with the catalogue's files, every bad row is named by its line and column, when any
row is bad nothing is written, and a file may hold only some columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from domain.customers import CustomerRecord
from persistence.catalogue_files import RecordFile, import_into, merge_into, write_rows
from persistence.database import Database
from persistence.transactions.catalogue import Imported
from persistence.transactions.customers import (
    customer_records,
    customers_by_id,
    save_customers_in,
)

CUSTOMERS_FILE = RecordFile(CustomerRecord, ("id",), ("id", "name", "email"), "customer")


def import_customers(db: Database, text: str, actor: str) -> Imported:
    """Read a customers CSV file and save it in one transaction as ``actor``: a known
    customer keeps the fields the file has no column for."""
    return import_into(
        db,
        text,
        CUSTOMERS_FILE,
        customers_by_id,
        lambda session, records: save_customers_in(session, records, actor),
    )


def merge_customers(db: Database, sent: Sequence[Mapping[str, Any]], actor: str) -> Imported:
    """Save customers of which only some fields were sent (an API batch), in one
    transaction as ``actor``: a known customer keeps every field not sent (see
    :func:`persistence.catalogue_files.merge_into`)."""
    return merge_into(
        db,
        sent,
        CUSTOMERS_FILE,
        customers_by_id,
        lambda session, records: save_customers_in(session, records, actor),
    )


def export_customers(db: Database) -> str:
    """Every customer as a CSV file an import takes back."""
    return write_rows(customer_records(db), CUSTOMERS_FILE)
