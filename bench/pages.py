"""How fast the console's order pages answer with a large read model.

Run it on a business database that holds a history (``oms demo-history``)::

    OMS_DATA_DIR=.oms python -m bench.pages              # the embedded default's SQLite
    OMS_DATABASE_URL=postgresql://... python -m bench.pages

Each page is asked for ``--repeat`` times by a logged-in order processing user
through the whole application (routing, session check, queries, templates) in
this process; the figures are the median and the slowest of those answers, and
how many orders the read model holds. Temporal is not asked (nothing here is
running), so an order page waits nothing for the live view: it is left out of
the figure: the client points at a closed port, so asking fails at once.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from domain.access import Role
from persistence.database import Database
from persistence.encrypted import use_key_ring
from persistence.models import Order
from persistence.transactions import accounts
from persistence.transactions.accounts import AccountError
from runtime.settings import Settings
from web.app import create_app

BENCH_USER = "bench.order-processing"
BENCH_PASSWORD = "a password for the page benchmark"


@dataclass(frozen=True)
class PageTime:
    """Answer times of one page, in milliseconds."""

    page: str
    median_ms: float
    slowest_ms: float
    status: int


@dataclass(frozen=True)
class PageFigures:
    """The run: the database, its size and each page's times."""

    database: str
    orders: int
    repeat: int
    pages: list[PageTime]


def pages_to_ask(db: Database) -> list[str]:
    """The work lists (first and last page), filters, searches, and a finished order's page."""
    with db.reading() as session:
        some = session.scalar(select(Order.id).order_by(Order.created_at.desc()).limit(1))
        customer = session.scalar(
            select(Order.customer_id)
            .group_by(Order.customer_id)
            .order_by(func.count().desc())
            .limit(1)
        )
    return [
        "/orders?list=new",
        "/orders?list=awaiting_approval",
        "/orders?list=in_progress",
        "/orders?list=needs_attention",
        "/orders?list=processed",
        "/orders?list=processed&page=2000",
        "/orders?list=processed&status=CANCELLED",
        "/orders?list=processed&channel=edi&from=2026-01-01&to=2026-03-31",
        f"/orders?list=processed&customer={customer}",
        f"/orders?list=processed&q={(some or '')[:8]}",
        f"/orders/{some}",
    ]


def measure(settings: Settings, repeat: int) -> PageFigures:
    """Log in and time every page ``repeat`` times."""
    use_key_ring(settings.load_key_ring())
    db = Database(settings.resolved_database_url)
    try:
        try:
            accounts.create_user(
                db, BENCH_USER, BENCH_PASSWORD, Role.ORDER_PROCESSING, actor="bench"
            )
        except AccountError:
            accounts.set_password(db, BENCH_USER, BENCH_PASSWORD, actor="bench")
        with db.reading() as session:
            orders = session.scalar(select(func.count()).select_from(Order)) or 0
        with TestClient(create_app(settings, db), follow_redirects=False) as client:
            _log_in(client)
            times = [_time_page(client, page, repeat) for page in pages_to_ask(db)]
    finally:
        db.dispose()
    return PageFigures(database=db.dialect, orders=orders, repeat=repeat, pages=times)


def _log_in(client: TestClient) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "no login form"
    answer = client.post(
        "/login",
        data={"username": BENCH_USER, "password": BENCH_PASSWORD, "csrf_token": token.group(1)},
    )
    assert answer.status_code == 303, f"login failed: {answer.status_code}"


def _time_page(client: TestClient, page: str, repeat: int) -> PageTime:
    client.get(page)  # warm: the templates compile, the database pages come into its cache
    seconds = []
    status = 0
    for _ in range(repeat):
        started = time.perf_counter()
        status = client.get(page).status_code
        seconds.append(time.perf_counter() - started)
    return PageTime(
        page=page,
        median_ms=round(statistics.median(seconds) * 1000, 1),
        slowest_ms=round(max(seconds) * 1000, 1),
        status=status,
    )


def main() -> None:
    """Print each page's times (and write them as JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20, help="answers timed per page (20)")
    parser.add_argument("--json", type=Path, help="write the figures here as well")
    options = parser.parse_args()
    # The order page asks the running workflow for its live view; nothing runs here, and a
    # closed port makes that a fast refusal rather than a wait.
    settings = Settings(temporal_address="127.0.0.1:9")
    figures = measure(settings, options.repeat)
    print(f"{figures.orders:,} orders in the read model ({figures.database})")
    print(f"{'page':70} {'median ms':>10} {'slowest ms':>11} status")
    for row in figures.pages:
        print(f"{row.page:70} {row.median_ms:>10} {row.slowest_ms:>11} {row.status}")
    if options.json:
        options.json.write_text(json.dumps(asdict(figures), indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
