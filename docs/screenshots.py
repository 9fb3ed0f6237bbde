"""The console's screenshots in docs/console/, taken from a running console with the
demo's data: each page as the role the docs show it for, in the language they show it in.

    .venv/bin/oms demo                      # in another terminal; leave it serving
    .venv/bin/python docs/screenshots.py --url http://127.0.0.1:8080 \\
        --logins .oms/demo-logins [home stock ...]

With names, only those screenshots are taken. Debian's Chromium is driven by Playwright
(the test extras); nothing is downloaded. A few screenshots act as the docs describe
them, on the demo's data: ``demo-approved`` approves the order the demo left held,
``api-keys`` makes a key named ``web-shop``, ``stocktake-blind`` opens a count of two
products in WH-BER and saves counts a few units off; the refused forms (``login-refused``,
``order-entry``, ``catalogue-refused``) change nothing. Each login's language is put back
after a screenshot in another language.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright

FOLDER = Path(__file__).resolve().parent / "console"
"""Where the docs keep the console's screenshots."""

Act = Callable[[Page, str, dict[str, str]], Awaitable[None]]
"""What to do on the page before it is photographed, given the console's address and
what the screenshots found so far (``held``: the held order; ``stocktake``: the count
the blind count screenshot opened), which it may add to."""


class ShotError(Exception):
    """The page could not be photographed as the docs show it; the message says why."""


@dataclass(frozen=True)
class Shot:
    """One screenshot: whose page, which, in what language, at what size."""

    name: str
    login: str | None
    """The demo login's role part (``demo.<login>``); ``None``: not logged in."""
    path: str
    """The page; ``{held}`` is the order the demo left held for credit review,
    ``{stocktake}`` the count the ``stocktake-blind`` screenshot opened."""
    locale: str = "en"
    size: tuple[int, int] = (1280, 900)
    full_page: bool = False
    act: Act | None = None


async def refuse_login(page: Page, base_url: str, found: dict[str, str]) -> None:
    """A wrong password: the refusal, and nothing said about the user."""
    await page.fill("input[name=username]", "demo.analyst")
    await page.fill("input[name=password]", "not the password")
    await page.click("button[type=submit]")
    await page.wait_for_load_state()


async def enter_a_wrong_phone_order(page: Page, base_url: str, found: dict[str, str]) -> None:
    """A phone order with every kind of problem: all shown at once, nothing submitted."""
    await page.fill("input[name=customer_id]", "CUST-OLD")
    await page.fill("input[name=lines-1-sku]", "NO-SUCH-SKU")
    await page.fill("input[name=lines-1-quantity]", "2")
    await page.fill("input[name=shipping_address-country]", "Germany")
    await page.click("form.entry button[type=submit]")
    await page.wait_for_load_state()


async def refuse_a_stock_level(page: Page, base_url: str, found: dict[str, str]) -> None:
    """A minimum above the reorder point: refused, nothing saved."""
    await page.fill("input[name=reorder_point]", "15")
    await page.fill("input[name=minimum]", "30")
    await page.click("form.card button[type=submit]")
    await page.wait_for_load_state()


async def make_an_api_key(page: Page, base_url: str, found: dict[str, str]) -> None:
    """A key for a web shop (``web-shop``, or the next free name): shown once."""
    names = await page.locator("table td:first-child").all_inner_texts()
    name, number = "web-shop", 1
    while name in (text.strip() for text in names):
        number += 1
        name = f"web-shop-{number}"
    await page.fill("input[name=name]", name)
    await page.click("form[action='/admin/api-keys'] button[type=submit]")
    await page.wait_for_load_state()


async def approve_the_held_order(page: Page, base_url: str, found: dict[str, str]) -> None:
    """Approve the held order as support would; the page once the workflow moved on."""
    form = page.locator("form[action$='/approve']")
    if await form.count():
        await form.locator("input[name=reason]").fill("credit limit raised by phone")
        await form.locator("button[type=submit]").click()
        await page.wait_for_load_state()
        await asyncio.sleep(2)  # the workflow moves on: reserved, parcel planned
        await page.reload()


COUNTED = {"WIDGET-1": -4, "GADGET-2": +1}
"""The blind count's products in WH-BER, and how far the count is off the book."""


async def count_blind(page: Page, base_url: str, found: dict[str, str]) -> None:
    """Open a count of two products in WH-BER and save counts a few units off the book
    (read from the stock page first, as the counter does not see it)."""
    book: dict[str, int] = {}
    for sku in COUNTED:
        answer = await page.goto(f"{base_url}/stock?warehouse=WH-BER&q={sku}")
        headers = [text.strip() for text in await page.locator("main table th").all_inner_texts()]
        if answer is None or answer.status >= 400 or "On hand" not in headers:
            raise ShotError(f"the stock page shows no stock of {sku} to count")
        column = headers.index("On hand")
        for row in await page.locator("main table tbody tr").all():
            cells = [text.strip() for text in await row.locator("td").all_inner_texts()]
            if cells and cells[0] == sku and "WH-BER" in cells:
                book[sku] = int(cells[column].replace(",", ""))
    await page.goto(f"{base_url}/stock/stocktakes")
    await page.select_option("select[name=warehouse_id]", "WH-BER")
    await page.fill("input[name=skus]", ", ".join(COUNTED))
    await page.click("form[action='/stock/stocktakes'] button[type=submit]")
    await page.wait_for_load_state()
    found["stocktake"] = page.url.rstrip("/").rsplit("/", 1)[-1]
    for sku, off in COUNTED.items():
        await page.fill(f"input[name='count-{sku}']", str(book.get(sku, 0) + off))
    await page.click("button[form=count-form]")
    await page.wait_for_load_state()


SHOTS = (
    Shot("login", None, "/login", size=(1200, 640)),
    Shot("login-refused", None, "/login", act=refuse_login),
    Shot("home", "order-processing", "/", size=(1200, 640)),
    Shot("home-zh-hant", "analyst", "/", locale="zh_Hant", size=(1200, 640)),
    Shot("account-zh-hant", "analyst", "/account", locale="zh_Hant", size=(1200, 640)),
    Shot("orders", "order-processing", "/orders?list=awaiting_approval"),
    Shot("order-held", "order-processing", "/orders/{held}", full_page=True),
    Shot("order-zh-hant", "analyst", "/orders/{held}", locale="zh_Hant", full_page=True),
    Shot("orders-processed-zh-hant", "analyst", "/orders?list=processed", locale="zh_Hant"),
    Shot(
        "order-entry",
        "order-processing",
        "/orders/new",
        full_page=True,
        act=enter_a_wrong_phone_order,
    ),
    Shot("api-keys", "admin", "/admin/api-keys", act=make_an_api_key, full_page=True),
    Shot("stock", "warehouse", "/stock", size=(1280, 800)),
    Shot("stock-product", "warehouse", "/stock/products/GADGET-2?warehouse=WH-BER", full_page=True),
    Shot("forecast", "warehouse", "/stock/forecast", size=(1280, 800)),
    Shot("replenishment", "warehouse", "/stock/replenishment", size=(1280, 800)),
    Shot("catalogue", "warehouse", "/stock/catalogue"),
    Shot(
        "catalogue-refused",
        "warehouse",
        "/stock/catalogue/levels/record?sku=GADGET-2&warehouse_id=WH-BER",
        size=(1400, 900),
        act=refuse_a_stock_level,
    ),
    Shot("stocktake-blind", "warehouse", "/stock/stocktakes", size=(1280, 800), act=count_blind),
    Shot("stocktake-approve", "admin", "/stock/stocktakes/{stocktake}", size=(1280, 800)),
    Shot("complaints", "customer-service", "/complaints"),
    Shot("complaint", "customer-service", "/complaints/1", full_page=True),
    Shot("complaint-analysis", "analyst", "/complaints/analysis", full_page=True),
    Shot(
        "customer-view",
        "customer-service",
        "/customers/CUST-ACME",
        size=(1400, 900),
        full_page=True,
    ),
    Shot("customer-care", "customer-service", "/customers/care", size=(1400, 900)),
    Shot("customer-segments", "analyst", "/customers/segments", size=(1400, 900)),
    Shot("credit-evaluation", "order-processing", "/customers/credit", size=(1400, 900)),
    Shot(
        "demo-approved",
        "order-processing",
        "/orders/{held}",
        full_page=True,
        act=approve_the_held_order,
    ),
)
"""Every screenshot the docs show, in the order they are taken (the held order is shown
before it is approved)."""


def read_logins(path: Path) -> dict[str, str]:
    """``user password`` lines, as ``oms demo`` writes them."""
    logins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            username, password = line.split()
            logins[username] = password
    return logins


async def log_in(page: Page, base_url: str, username: str, password: str) -> None:
    await page.goto(f"{base_url}/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
    await page.wait_for_load_state()
    if page.url.endswith("/login"):
        raise SystemExit(f"{username} was not let in: is --logins the running demo's file?")


async def choose_language(page: Page, base_url: str, locale: str) -> str:
    """Set the login's language on its account page; the language it had."""
    await page.goto(f"{base_url}/account")
    had = await page.locator("select[name=locale]").input_value()
    if had != locale:
        await page.select_option("select[name=locale]", locale)
        await page.click("form[action='/account/language'] button")
        await page.wait_for_load_state()
    return had


async def held_order(browser: Browser, base_url: str, logins: dict[str, str]) -> str | None:
    """The order the demo left awaiting approval (the first on that list), if one waits."""
    page = await browser.new_page()
    await log_in(page, base_url, "demo.order-processing", logins["demo.order-processing"])
    await page.goto(f"{base_url}/orders?list=awaiting_approval")
    links = await page.eval_on_selector_all(
        "main table a[href^='/orders/']", "links => links.map(link => link.getAttribute('href'))"
    )
    await page.close()
    return str(links[0]).removeprefix("/orders/") if links else None


async def take(
    browser: Browser,
    base_url: str,
    logins: dict[str, str],
    shot: Shot,
    found: dict[str, str],
    out: Path,
) -> Path:
    """Take one screenshot; the file written."""
    width, height = shot.size
    context = await browser.new_context(
        viewport={"width": width, "height": height},
        locale="zh-TW" if shot.locale == "zh_Hant" else "en-GB",
    )
    page = await context.new_page()
    had = shot.locale
    try:
        if shot.login is not None:
            username = f"demo.{shot.login}"
            await log_in(page, base_url, username, logins[username])
            had = await choose_language(page, base_url, shot.locale)
        answer = await page.goto(base_url + shot.path.format(**found))
        if answer is None or answer.status >= 400:
            raise ShotError(f"{shot.path} answered {answer.status if answer else 'nothing'}")
        if shot.act is not None:
            await shot.act(page, base_url, found)
        path = out / f"{shot.name}.png"
        await page.screenshot(path=str(path), full_page=shot.full_page)
        if had != shot.locale:
            await choose_language(page, base_url, had)
        return path
    finally:
        await context.close()


async def main(arguments: argparse.Namespace) -> None:
    logins = read_logins(arguments.logins)
    wanted = set(arguments.names)
    unknown = wanted - {shot.name for shot in SHOTS}
    if unknown:
        raise SystemExit(
            f"no such screenshot: {', '.join(sorted(unknown))} (known: "
            + ", ".join(shot.name for shot in SHOTS)
            + ")"
        )
    base_url = arguments.url.rstrip("/")
    failures = 0
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=arguments.chromium, args=["--no-sandbox"]
        )
        try:
            held = await held_order(browser, base_url, logins)
            found = {"held": held} if held else {}
            for shot in SHOTS:
                if wanted and shot.name not in wanted:
                    continue
                if held is None and "{held}" in shot.path:
                    print(f"not taken: {shot.name}.png (no order awaits approval; the demo's")
                    print("  held order is approved by the demo-approved screenshot)")
                    continue
                if "{stocktake}" in shot.path and "stocktake" not in found:
                    print(f"not taken: {shot.name}.png (it shows the count stocktake-blind opens)")
                    continue
                try:
                    written = await take(browser, base_url, logins, shot, found, arguments.out)
                except ShotError as failed:
                    print(f"not taken: {shot.name}.png ({failed})")
                    failures += 1
                    continue
                print(f"wrote {written}")
        finally:
            await browser.close()
    if failures:
        raise SystemExit(f"{failures} screenshot(s) not taken: their pages failed")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="only these screenshots (e.g. home stock)")
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="the running console")
    parser.add_argument(
        "--logins", type=Path, default=Path(".oms/demo-logins"), help="the demo's logins file"
    )
    parser.add_argument(
        "--out", type=Path, default=FOLDER, help="where to write (default: docs/console)"
    )
    parser.add_argument(
        "--chromium", default=shutil.which("chromium"), help="Chromium's path (default: PATH)"
    )
    parsed = parser.parse_args()
    if parsed.chromium is None:
        sys.exit("chromium is not installed (apt-get install chromium)")
    return parsed


if __name__ == "__main__":
    asyncio.run(main(arguments()))
