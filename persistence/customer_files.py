"""Customers from and to CSV files (``oms customers import|export``, the console's upload):
one row per customer, the columns the fields of :class:`domain.customers.CustomerRecord`.
As with the catalogue's files, every bad row is named by its line and column, and when
any row is bad nothing is written."""

from __future__ import annotations

from domain.customers import CustomerRecord
from persistence.catalogue_files import RecordFile, by_line, read_rows, write_rows
from persistence.database import Database
from persistence.transactions.catalogue import CatalogueRecordsError, Loaded
from persistence.transactions.customers import customer_records, save_customers

CUSTOMERS_FILE = RecordFile(CustomerRecord, ("id", "name", "email"), lambda record: record.id)


def import_customers(db: Database, text: str, actor: str) -> Loaded:
    """Read a customers CSV file and save it in one transaction as ``actor``."""
    rows = read_rows(text, CUSTOMERS_FILE)
    try:
        return save_customers(db, rows.records, actor)
    except CatalogueRecordsError as refused:
        raise by_line(rows, refused) from refused


def export_customers(db: Database) -> str:
    """Every customer as a CSV file an import takes back."""
    return write_rows(customer_records(db), CUSTOMERS_FILE)
