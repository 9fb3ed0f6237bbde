"""What the nightly reviews write for people (a credit score's reasons, a replenishment
proposal's reason, a stock alert's detail) reads in the reader's language, its days as the
reader writes them; the wordings are kept in the database beside the English text."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from domain.access import Locale, Role
from domain.catalogue import StockPolicyRecord
from domain.credit_scoring import CreditRules, score_credit
from domain.customers import CustomerRecord
from domain.forecasting import ETS, SeriesForecast
from domain.inventory import StockChange, StockOperation, StockReason
from domain.replenishment import (
    Proposal,
    ReplenishmentRules,
    StockPosition,
    project,
    propose,
)
from domain.stock_alerts import AlertKind, AlertRules
from domain.supply import SupplyKind
from persistence.database import Database
from persistence.models import StockAlert
from persistence.transactions import accounts
from persistence.transactions.alerts import review_alerts, stock_alerts
from persistence.transactions.catalogue import load_stock_policies
from persistence.transactions.credit_reviews import (
    credit_figures,
    credit_proposals,
    credit_standing,
    evaluate_credit,
)
from persistence.transactions.customers import save_customers
from persistence.transactions.replenishment import proposals, write_review
from persistence.transactions.stock import book_stock_change
from runtime.settings import Settings
from tests.test_credit_scoring import _bolt_orders
from tests.test_web_admin import PASSWORD, log_in
from tests.test_web_stock_operations import text_of
from web.app import create_app
from web.i18n import day

RULES = ReplenishmentRules()
DAILY = [60.0] * RULES.horizon_days
"""A forecast that empties WIDGET-1's 500 units in Berlin on the ninth day."""


def _forecast_and_propose(db: Database, today: date) -> Proposal:
    """Write a review of WIDGET-1 in Berlin whose projection runs out: its forecast and
    its proposal (min/max figures, a stock-out day, packs of 50)."""
    position = StockPosition(
        sku="WIDGET-1",
        warehouse_id="WH-BER",
        on_hand=500,
        reserved=0,
        lead_time_days=10,
        pack_multiple=50,
        kind=SupplyKind.PURCHASE,
        reorder_point=600,
        maximum=900,
    )
    projection = project(position, DAILY, 5.0, today, RULES)
    proposal = propose(position, projection, DAILY, RULES)
    assert proposal is not None
    assert proposal.stockout_on is not None
    series = SeriesForecast(
        sku="WIDGET-1", warehouse_id="WH-BER", method=ETS, intermittent=False, daily=DAILY
    )
    write_review(db, [series], [projection], [proposal], datetime.now(UTC))
    return proposal


def _panel_runs_out(db: Database) -> None:
    """PANEL-X in Hamburg, kept on purpose, loses its last five units."""
    load_stock_policies(
        db,
        [
            StockPolicyRecord(sku="WIDGET-1", warehouse_id="WH-BER", reorder_point=600),
            StockPolicyRecord(sku="PANEL-X", warehouse_id="WH-HAM", reorder_point=1, maximum=2),
        ],
    )
    book_stock_change(
        db,
        StockChange(
            operation=StockOperation.ISSUE,
            sku="PANEL-X",
            warehouse_id="WH-HAM",
            quantity=5,
            reason=StockReason.SCRAP,
            actor="kai",
        ),
    )


def test_the_reviews_wordings_survive_the_database(db: Database) -> None:
    today = datetime.now(UTC).date()
    proposal = _forecast_and_propose(db, today)
    [kept] = proposals(db)
    assert kept.reason_wordings == proposal.reason_wordings
    assert kept.reason == proposal.reason
    assert kept.reason_wordings is not None
    assert kept.reason_wordings[-2].days == {"day": proposal.stockout_on}
    assert kept.reason.endswith(f"runs out on {proposal.stockout_on}; rounded up to packs of 50")

    _panel_runs_out(db)
    now = datetime.now(UTC)
    raised = {a.kind: a for a in review_alerts(db, AlertRules(), now).raised}
    read = {a.kind: a for a in stock_alerts(db)}
    out = read[AlertKind.STOCK_OUT]
    assert out.wording == raised[AlertKind.STOCK_OUT].wording
    assert out.wording is not None
    assert out.wording.english() == out.detail == "0 on hand, 0 reserved, nothing free; 0 incoming"

    _bolt_orders(db, 6, 30)
    evaluate_credit(db, today, now, CreditRules())
    bolt_figures = next(f for f in credit_figures(db, today) if f.customer_id == "CUST-BOLT")
    scored = score_credit(bolt_figures, today, CreditRules())
    bolt = next(p for p in credit_proposals(db) if p.customer_id == "CUST-BOLT")
    assert bolt.wordings == scored.wordings
    assert [w.english() for w in bolt.wordings or []] == bolt.reasons
    standing = credit_standing(db, "CUST-BOLT")
    assert standing is not None
    assert standing.wordings == scored.wordings


@pytest.fixture
def console(db: Database, database_url: str) -> Iterator[TestClient]:
    accounts.create_user(
        db, "mei.lin", PASSWORD, Role.ADMIN, Locale.TRADITIONAL_CHINESE, actor="test"
    )
    with TestClient(
        create_app(Settings(database_url=database_url), db), follow_redirects=False
    ) as client:
        log_in(client, "mei.lin")
        yield client


def test_credit_reasons_read_in_chinese(console: TestClient, db: Database) -> None:
    _bolt_orders(db, 6, 30)
    now = datetime.now(UTC)
    evaluate_credit(db, now.date(), now, CreditRules())
    for path in ("/customers/credit", "/customers/CUST-BOLT"):
        page = text_of(console.get(path).text)
        assert "往來期間" in page  # tenure
        assert "個月" in page
        assert "交易量" in page  # volume
        for english in ("tenure", "month(s) since the first order", "spent in 12 months"):
            assert english not in page
    prepaid = text_of(console.get("/customers/CUST-JANE").text)
    assert "預付：未提供信用額度，無建議事項" in prepaid  # noqa: RUF001 - Chinese punctuation
    assert "prepaid: no credit extended" not in prepaid


def test_a_customers_language_and_channel_read_as_words(console: TestClient, db: Database) -> None:
    """The customer page named the language and the channel by their codes (``de``, ``phone``)."""
    save_customers(
        db,
        [
            CustomerRecord(
                id="CUST-DE",
                name="Kunde GmbH",
                email="einkauf@example.org",
                language="de",
                preferred_channel="phone",
            )
        ],
        "test",
    )
    page = text_of(console.get("/customers/CUST-DE").text)
    assert "德文" in page
    assert "訂購方式 電話" in page or "電話" in page
    assert "phone" not in page


def test_replenishment_alerts_and_the_product_read_in_chinese_with_local_days(
    console: TestClient, db: Database
) -> None:
    today = datetime.now(UTC).date()
    proposal = _forecast_and_propose(db, today)
    assert proposal.stockout_on is not None
    runs_out = day(proposal.stockout_on, Locale.TRADITIONAL_CHINESE)
    assert "年" in runs_out
    iso = proposal.stockout_on.isoformat()

    planning = text_of(console.get("/stock/replenishment").text)
    assert "補到最高庫存 900" in planning or "預測" in planning
    assert f"將於 {runs_out} 缺貨" in planning
    assert "無條件進位為每包 50 的倍數" in planning
    for english in ("position", "runs out on", "up to the maximum", "rounded up", iso):
        assert english not in planning

    product = text_of(console.get("/stock/products/WIDGET-1?warehouse=WH-BER").text)
    assert f"將於 {runs_out} 缺貨" in product
    assert iso not in product
    forecast_page = console.get("/stock/forecast").text
    assert '<select name="warehouse">' in forecast_page  # the catalogue's warehouses to choose
    forecast = text_of(forecast_page)
    assert runs_out in forecast
    assert iso not in forecast
    assert "指數平滑（AutoETS）" in forecast  # noqa: RUF001 - Chinese punctuation
    assert "指數平滑（AutoETS）" in product  # noqa: RUF001 - Chinese punctuation

    _panel_runs_out(db)
    review_alerts(db, AlertRules(slow_moving_days=0), datetime.now(UTC))
    alerts = text_of(console.get("/stock/alerts").text)
    assert "在庫 0，已保留 0，沒有可用庫存；在途 0" in alerts  # noqa: RUF001 - Chinese punctuation
    assert "可用 500 + 在途 0 ≦ 再訂購點 600" in alerts
    assert "自 0 天前首次入庫以來從未出庫" in alerts or "最後一次出庫在 0 天前" in alerts
    for english in ("nothing free", "reorder point", "on hand", "goods out"):
        assert english not in alerts

    unknown = console.get("/stock/products/NO-SUCH-SKU")
    assert unknown.status_code == 404
    assert "任何倉庫都沒有 NO-SUCH-SKU 的庫存" in text_of(unknown.text)
    assert "kept anywhere" not in unknown.text


def test_an_older_row_without_a_wording_still_shows_its_english_text(
    console: TestClient, db: Database
) -> None:
    _panel_runs_out(db)
    review_alerts(db, AlertRules(), datetime.now(UTC))
    with db.transaction() as session:
        session.execute(update(StockAlert).values(detail_wording=None))
    alerts = text_of(console.get("/stock/alerts").text)
    assert "0 on hand, 0 reserved, nothing free; 0 incoming" in alerts
