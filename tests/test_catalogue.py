"""A company's own catalogue from CSV (issue 16): every bad row named, nothing half-loaded."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from domain.catalogue import ProductRecord, Sourcing
from persistence.catalogue_files import (
    KINDS,
    Kind,
    import_text,
    read_products,
    read_rows,
    write_products,
    write_rows,
)
from persistence.csv_files import CsvFileError
from persistence.database import Database
from persistence.models import Product
from persistence.transactions.catalogue import (
    CatalogueRecordsError,
    load_products,
    load_stock_policies,
    load_warehouses,
    product_records,
    stock_policy_records,
)
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
    with pytest.raises(CsvFileError) as refused:
        read_products(text)
    problems = refused.value.problems
    assert problems[0].startswith("line 3, column 'sku': String should match pattern")
    assert any(p.startswith("line 4, column 'name'") for p in problems)
    assert any(p.startswith("line 4, column 'unit_price'") for p in problems)
    assert any(p.startswith("line 4, column 'sourcing'") for p in problems)
    assert any(p.startswith("line 4, column 'pack_multiple'") for p in problems)
    assert "line 5: the same as line 2 (OK-1)" in problems
    with pytest.raises(CsvFileError) as header:
        read_products("sku,name,price\nX,Y,1\n")
    assert header.value.problems == [
        "line 1, column 'price': unknown column (the columns: sku, name, unit, unit_price, "
        "currency, cost, sourcing, lead_time_days, pack_multiple, supplier, category, active)"
    ]
    with pytest.raises(CsvFileError) as new:
        read_products("sku,name\nX,Y\nZ,W\n")
    assert new.value.problems == [
        "line 1: required column 'unit_price' is missing, and a new product needs it (lines 2, 3)"
    ]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_oms_catalogue_import_refuses_a_bad_file_whole_and_exports(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    environment = {"OMS_DATABASE_URL": database_url}
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD + "BROKEN,,x,y,,,,,,\n", encoding="utf-8")
    refused = oms("catalogue", "import", "products", str(bad), environment=_with(environment))
    assert refused.returncode == 1
    assert "line 4, column 'name'" in refused.stderr
    assert "nothing imported" in refused.stderr
    with db.reading() as session:
        assert not session.scalar(
            select(func.count()).select_from(Product).where(Product.sku == "BOX-S")
        )
    good = tmp_path / "good.csv"
    good.write_text(GOOD, encoding="utf-8-sig")  # with a byte-order mark, as spreadsheets save
    loaded = oms("catalogue", "import", "products", str(good), environment=_with(environment))
    assert loaded.returncode == 0, loaded.stderr
    assert "2 created, 0 updated, 0 unchanged" in loaded.stdout
    exported = oms("catalogue", "export", "products", environment=_with(environment))
    assert exported.returncode == 0
    assert 'BOX-S,"Box, small",pcs,2.50,EUR,1.10,buy,7,50,Kartonagen Nord,packaging,true' in (
        exported.stdout
    )
    levels = tmp_path / "levels.csv"
    levels.write_text(
        "sku,warehouse_id,reorder_point,maximum\nBOX-S,WH-BER,100,900\nGHOST,WH-BER,1,9\n",
        encoding="utf-8",
    )
    unknown = oms("catalogue", "import", "levels", str(levels), environment=_with(environment))
    assert unknown.returncode == 1
    assert "line 3: sku 'GHOST': no such product" in unknown.stderr
    levels.write_text("sku,warehouse_id,reorder_point,maximum\nBOX-S,WH-BER,100,900\n")
    known = oms("catalogue", "import", "levels", str(levels), environment=_with(environment))
    assert "1 created" in known.stdout, known.stderr


def _with(extra: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **extra}


def test_warehouses_and_stock_levels_load_and_name_what_the_catalogue_lacks(
    db: Database,
) -> None:
    warehouses = read_rows(
        "id,name,country,priority\nWH-TPE,Taipei north,TW,5\n", KINDS[Kind.WAREHOUSES]
    )
    assert load_warehouses(db, warehouses.records).created == 1
    levels = read_rows(
        "sku,warehouse_id,reorder_point,minimum,maximum,safety_stock,service_level\n"
        "WIDGET-1,WH-TPE,40,20,400,25,0.95\n"
        "NO-SUCH,WH-TPE,1,0,10,0,\n"
        "WIDGET-1,WH-NOWHERE,1,0,10,0,\n",
        KINDS[Kind.LEVELS],
    )
    demo = stock_policy_records(db)
    with pytest.raises(CatalogueRecordsError) as unknown:
        load_stock_policies(db, levels.records)
    assert unknown.value.problems == [
        (1, "sku 'NO-SUCH': no such product"),
        (2, "warehouse_id 'WH-NOWHERE': no such warehouse"),
    ]
    assert stock_policy_records(db) == demo  # nothing of the file was written
    assert load_stock_policies(db, levels.records[:1]).created == 1
    [policy] = [p for p in stock_policy_records(db) if p.warehouse_id == "WH-TPE"]
    assert (policy.reorder_point, policy.maximum, policy.service_level) == (
        40,
        400,
        Decimal("0.95"),
    )
    with pytest.raises(CsvFileError) as disordered:
        import_text(
            db,
            Kind.LEVELS,
            "sku,warehouse_id,reorder_point,minimum,maximum\n"
            "WIDGET-1,WH-TPE,5,9,0\n"
            "WIDGET-1,WH-BER,5,0,4\n",
        )
    assert disordered.value.problems == [
        "line 2: minimum 9 is above the reorder point 5",
        "line 3: reorder_point 5 is above the maximum 4",
    ]
    exported = write_rows(stock_policy_records(db), KINDS[Kind.LEVELS])
    assert read_rows(exported, KINDS[Kind.LEVELS]).records == stock_policy_records(db)


def test_a_spreadsheets_trailing_empty_columns_are_skipped_and_a_column_named_twice_refused(
    db: Database,
) -> None:
    loaded = import_text(db, Kind.PRODUCTS, "sku,name,unit_price,,\nTRAIL-1,Trailing,1.00,,\n")
    assert loaded.created == 1
    with pytest.raises(CsvFileError) as twice:
        import_text(db, Kind.PRODUCTS, "sku,name,unit_price,name\nTWICE-1,A,1.00,B\n")
    assert twice.value.problems == ["line 1, column 'name': named twice; keep one"]
    with pytest.raises(CsvFileError) as unnamed:
        import_text(db, Kind.PRODUCTS, "sku,name,unit_price,\nLOST-1,A,1.00,what is this\n")
    assert unnamed.value.problems == [
        "line 2: a cell under a column the first line does not name; name the column or "
        "leave its cells empty"
    ]
