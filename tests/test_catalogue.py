"""A company's own catalogue from CSV (issue 16): every bad row named, nothing half-loaded."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from domain.catalogue import ProductRecord, Sourcing
from ops.catalogue import CatalogueFileError, read_products, write_products
from persistence.database import Database
from persistence.models import Product
from persistence.transactions.catalogue import load_products, product_records
from tests.commands import oms

GOOD = """sku,name,unit,unit_price,cost,sourcing,lead_time_days,pack_multiple,supplier,category
BOX-S,"Box, small",pcs,2.50,1.10,buy,7,50,Kartonagen Nord,packaging
VALVE-9,Valve DN50,pcs,88.00,41.00,make,12,1,Factory Hamburg,valves
"""


def test_a_catalogue_file_is_loaded_and_written_back_the_same(db: Database) -> None:
    records = read_products(GOOD)
    first = load_products(db, records)
    again = load_products(db, records)
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    stored = {r.sku: r for r in product_records(db)}
    assert stored["BOX-S"] == ProductRecord(
        sku="BOX-S",
        name="Box, small",
        unit_price=Decimal("2.50"),
        cost=Decimal("1.10"),
        sourcing=Sourcing.BUY,
        lead_time_days=7,
        pack_multiple=50,
        supplier="Kartonagen Nord",
        category="packaging",
    )
    exported = write_products(product_records(db))
    assert read_products(exported) == product_records(db)  # export, then import: the same
    changed = read_products(GOOD.replace("88.00", "91.50"))
    assert load_products(db, changed).updated == 1
    assert {r.sku: r for r in product_records(db)}["VALVE-9"].unit_price == Decimal("91.50")


def test_every_bad_row_is_named_with_its_line_and_column_and_nothing_is_written(
    db: Database,
) -> None:
    text = (
        "sku,name,unit_price,sourcing,pack_multiple\n"
        "OK-1,Fine,1.00,stock,1\n"
        "BAD 2,No spaces in SKUs,1.00,stock,1\n"
        "OK-3,,abc,sell,0\n"
        "OK-1,Twice,2.00,stock,1\n"
    )
    with pytest.raises(CatalogueFileError) as refused:
        read_products(text)
    problems = refused.value.problems
    assert problems[0].startswith("line 3, column 'sku': String should match pattern")
    assert any(p.startswith("line 4, column 'name'") for p in problems)
    assert any(p.startswith("line 4, column 'unit_price'") for p in problems)
    assert any(p.startswith("line 4, column 'sourcing'") for p in problems)
    assert any(p.startswith("line 4, column 'pack_multiple'") for p in problems)
    assert "line 5, column 'sku': 'OK-1' is also on line 2" in problems
    with pytest.raises(CatalogueFileError) as header:
        read_products("sku,name,price\nX,Y,1\n")
    assert header.value.problems == [
        "line 1, column 'price': unknown column",
        "line 1: required column 'unit_price' is missing",
    ]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_oms_catalogue_import_refuses_a_bad_file_whole_and_exports(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    environment = {"OMS_DATABASE_URL": database_url}
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD + "BROKEN,,x,y\n", encoding="utf-8")
    refused = oms("catalogue", "import", str(bad), environment=_with(environment))
    assert refused.returncode == 1
    assert "line 4, column 'name'" in refused.stderr
    assert "nothing imported" in refused.stderr
    with db.reading() as session:
        assert not session.scalar(
            select(func.count()).select_from(Product).where(Product.sku == "BOX-S")
        )
    good = tmp_path / "good.csv"
    good.write_text(GOOD, encoding="utf-8-sig")  # with a byte-order mark, as spreadsheets save
    loaded = oms("catalogue", "import", str(good), environment=_with(environment))
    assert loaded.returncode == 0, loaded.stderr
    assert "2 created, 0 updated, 0 unchanged" in loaded.stdout
    exported = oms("catalogue", "export", environment=_with(environment))
    assert exported.returncode == 0
    assert 'BOX-S,"Box, small",pcs,2.50,EUR,1.10,buy,7,50,Kartonagen Nord,packaging,true' in (
        exported.stdout
    )


def _with(extra: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **extra}
