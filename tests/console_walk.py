"""A walk of the staff console in Chromium, as one login, in Traditional Chinese: every
same-site link reachable from the start page is followed (a few pages per URL shape), and
each page is checked for what a reader of Chinese must not meet.

On every page: the links it offers open (status below 400; a link that answers 403 is a
fault, a page must not offer what its reader may not open); no English sentence of ours
(three English words in a row) outside the data people typed, which :func:`typed_data`
lists from the demo's data files; no raw timestamp; no HTML shown as text (the title
included); no image (a chart) without its alt text. On the page of a finished order
(completed, cancelled, rejected, failed), no form for an action the workflow would
refuse.

Used by ``tests/test_demo_terminal.py`` against the console ``oms demo`` serves.
"""

from __future__ import annotations

import ast
import csv
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import parse_qsl, urldefrag, urljoin, urlsplit

from playwright.async_api import Browser, Page

from domain.access import Locale
from domain.orders import FINAL_STATUSES
from runtime.processes import ROOT
from web.i18n import translations
from web.labels import STATUS_LABELS

ENGLISH_WORD = r"(?:[A-Za-z][a-z]+(?:'[a-z]+)?|a|I)"
ENGLISH_SENTENCE = re.compile(
    rf"(?<![A-Za-z0-9_.@-]){ENGLISH_WORD}(?:[ \u00a0]+{ENGLISH_WORD}){{2,}}(?![A-Za-z0-9_@-])"
)
"""Three or more English words in a row: a sentence (or a heading) left untranslated."""

RAW_MARKUP = re.compile(r"</?(?:a|p|div|span|form|input|button|label|h\d|td|tr|table)\b[^<>]*>")
"""HTML shown as text (escaped, or inside the page's title), not drawn."""

RAW_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}(?:T| )\d{2}:\d{2}")
"""A moment as the machine writes it (ISO 8601, or ``YYYY-MM-DD HH:MM``), not for people."""

PAGES_PER_SHAPE = 2
"""Links followed per URL shape (``/orders/<id>`` is one shape, whatever the id; a query
keeps its names and the values that choose a list), and for a record's page per shape of
the page offering it too: two orders of the processed list, two of the held ones, two from
a customer's page."""

PAGES_PER_LOGIN = 120
"""At most this many pages per login, so the walk stays bounded."""

SKIPPED_PATHS = re.compile(r"^/(logout|static/)|\.(csv|xlsx|json|svg|png|pdf|eml)$")
"""Not pages to read: logging out, files, downloads."""

ID_SEGMENT = re.compile(r"\d|^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+$|^[0-9a-f-]{16,}$")
"""A path segment that names one record (an order, a product, a customer ...)."""

CHOICE = re.compile(r"[a-z_]{1,24}")
"""A query value that chooses among a few (a list, a filter), not a record or a page."""

REFUSED_ON_FINISHED_ORDERS = ("cancel", "approve", "reject", "pay", "extend", "receive", "resolve")
"""Order actions a finished order's workflow refuses: no form for them may be shown."""

DEMO_DATA_FILES = (
    "ops/demo.py",
    "ops/complaints.py",
    "ops/complaint_case.py",
    "ops/customers.py",
    "ops/history.py",
    "ops/replenishment.py",
    "ops/submissions.py",
    "persistence/demo_catalogue.py",
)
"""Python files of the demo whose string literals are data people would have typed
(complaint subjects and messages, reasons, notes); docstrings are not."""


@dataclass(frozen=True)
class Finding:
    """Something a reader met on one page."""

    login: str
    url: str
    """The page, as a path (a link's fault is found on the page that offered it)."""
    kind: str
    detail: str
    """What was met: the English words, the timestamp, the link, the form."""
    example: str = ""
    """The line of the page it was met in."""


@dataclass
class Walk:
    """What one login's walk visited and found."""

    login: str
    visited: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def found(self, url: str, kind: str, detail: str, example: str = "") -> None:
        self.findings.append(Finding(self.login, url, kind, detail, example))


@cache
def typed_data() -> tuple[str, ...]:
    """Text of the demo's data that has a space in it, longest first: the cells of
    ``persistence/demo/*.csv``, the strings of ``examples/*.json`` and the string literals
    (not docstrings) of :data:`DEMO_DATA_FILES`."""
    return tuple(sorted((t for t in _demo_texts() if " " in t), key=len, reverse=True))


@cache
def name_words() -> frozenset[str]:
    """Capitalised words of the demo's data: the parts the history makes names of
    (``Formosa`` ``Trading`` ``Ltd``, a first and a last name, a city)."""
    return frozenset(word for text in _demo_texts() for word in re.findall(r"[A-Z][A-Za-z]*", text))


@cache
def _demo_texts() -> frozenset[str]:
    texts: set[str] = set()
    for table in (ROOT / "persistence" / "demo").glob("*.csv"):
        with table.open(encoding="utf-8", newline="") as rows:
            for row in csv.reader(rows):
                texts.update(row)
    for example in (ROOT / "examples").glob("*.json"):
        texts.update(_strings(json.loads(example.read_text(encoding="utf-8"))))
    for name in DEMO_DATA_FILES:
        tree = ast.parse((ROOT / name).read_text(encoding="utf-8"))
        docstrings = {
            id(node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        }
        texts.update(
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        )
    return frozenset(text.strip() for text in texts)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def english_sentences(text: str) -> list[str]:
    """The English word runs of ``text`` once the demo's typed data is taken out (and
    runs made only of the capitalised words its names are made of)."""
    for typed in typed_data():
        if typed in text:
            text = text.replace(typed, "\u2022")
    return [
        run
        for run in ENGLISH_SENTENCE.findall(text)
        if not set(re.findall(r"[A-Za-z]+", run)) <= name_words()
    ]


def shape(url: str) -> str:
    """The URL with record ids put as ``<id>``, and query values other than a choice
    (``list=processed``, ``history=true``) as ``<value>``."""
    parts = urlsplit(url)
    path = "/".join(
        "<id>" if segment and ID_SEGMENT.search(segment) else segment
        for segment in parts.path.split("/")
    )
    query = sorted(
        f"{name}={value if CHOICE.fullmatch(value) else '<value>'}"
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    return path + ("?" + "&".join(query) if query else "")


@cache
def finished_status_labels() -> frozenset[str]:
    """How a finished order's status reads in Chinese."""
    gettext = translations(Locale.TRADITIONAL_CHINESE).gettext
    return frozenset(gettext(STATUS_LABELS[status]) for status in FINAL_STATUSES)


async def log_in(page: Page, base_url: str, username: str, password: str) -> None:
    """Log in through the login form."""
    await page.goto(f"{base_url}/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
    await page.wait_for_load_state()


async def choose_language(page: Page, base_url: str, locale: str) -> str:
    """Set the login's language on its account page; the language it had."""
    await page.goto(f"{base_url}/account")
    chosen = await page.locator("select[name=locale]").input_value()
    await page.select_option("select[name=locale]", locale)
    await page.click("form[action='/account/language'] button")
    await page.wait_for_load_state()
    return chosen


async def walk_console(browser: Browser, base_url: str, username: str, password: str) -> Walk:
    """Follow every same-site link from the start page as ``username``, in Chinese."""
    walk = Walk(username)
    context = await browser.new_context(locale="zh-TW")
    # The charts are images drawn on the server for each request; the walk reads text.
    await context.route(
        "**/*",
        lambda route: (
            route.abort() if route.request.resource_type == "image" else route.continue_()
        ),
    )
    page = await context.new_page()
    try:
        await log_in(page, base_url, username, password)
        language = await choose_language(page, base_url, Locale.TRADITIONAL_CHINESE.value)
        try:
            await _walk(page, base_url, walk)
        finally:
            await choose_language(page, base_url, language)
    finally:
        await context.close()
    return walk


async def _walk(page: Page, base_url: str, walk: Walk) -> None:
    origin = urlsplit(base_url).netloc
    queue: list[tuple[str, str]] = [(f"{base_url}/", "(start)")]
    seen: set[str] = {queue[0][0]}
    per_shape: Counter[str] = Counter()
    while queue and len(walk.visited) < PAGES_PER_LOGIN:
        url, offered_by = queue.pop(0)
        answer = await page.goto(url)
        walk.visited.append(url)
        status = answer.status if answer else 0
        if status >= 400:
            walk.found(
                offered_by.removeprefix(base_url),
                f"link answers {status}",
                url.removeprefix(base_url),
            )
            continue
        if "text/html" not in ((answer.headers.get("content-type") or "") if answer else ""):
            continue
        await _check_page(page, base_url, page.url, walk)
        for link in await page.eval_on_selector_all(
            "a[href]:not([download])", "links => links.map(link => link.href)"
        ):
            target, _fragment = urldefrag(urljoin(page.url, link))
            parts = urlsplit(target)
            if parts.netloc != origin or SKIPPED_PATHS.search(parts.path) or target in seen:
                continue
            seen.add(target)
            # A record's page per shape and the shape of the page offering it, so an
            # order of the processed list is visited as well as one of the held orders;
            # a list's pages (filters, further pages) per shape only.
            kind = shape(target)
            if "<id>" in kind:
                kind += f" from {shape(page.url)}"
            if per_shape[kind] >= PAGES_PER_SHAPE:
                continue
            per_shape[kind] += 1
            queue.append((target, page.url))


async def _check_page(page: Page, base_url: str, url: str, walk: Walk) -> None:
    text = await page.evaluate(
        """() => [document.title, document.body.innerText].concat(
            Array.from(document.querySelectorAll("[title], [placeholder], [alt], [aria-label]"))
                .flatMap(e => ["title", "placeholder", "alt", "aria-label"]
                    .map(name => e.getAttribute(name)).filter(Boolean))
        ).join("\\n")"""
    )
    where = url.removeprefix(base_url)
    for image in await page.eval_on_selector_all(
        "img:not([alt]), img[alt='']", "images => images.map(image => image.getAttribute('src'))"
    ):
        walk.found(where, "image without alt text", str(image))
    for line in text.splitlines():
        for sentence in english_sentences(line):
            walk.found(where, "English", repr(sentence), line.strip()[:200])
        if markup := RAW_MARKUP.search(line):
            walk.found(where, "markup shown as text", repr(markup[0][:60]), line.strip()[:200])
        for moment in RAW_TIMESTAMP.findall(line):
            walk.found(where, "raw timestamp", repr(moment), line.strip()[:200])
    if re.fullmatch(r"/orders/[^/?]+", urlsplit(url).path):
        status = await page.locator("h1 .status").all_inner_texts()
        if status and status[0].strip() in finished_status_labels():
            actions = await page.eval_on_selector_all(
                "form[method=post]", "forms => forms.map(form => form.getAttribute('action'))"
            )
            refused = [
                action
                for action in actions
                if action and action.rstrip("/").rsplit("/", 1)[-1] in REFUSED_ON_FINISHED_ORDERS
            ]
            for action in refused:
                walk.found(where, f"action on a finished order ({status[0]})", action)


def report(walks: list[Walk]) -> str:
    """The findings grouped by page: each thing met once, with the logins that met it and
    the line of the page it was first met in."""
    by_page: dict[str, dict[tuple[str, str], tuple[set[str], str]]] = {}
    for walk in walks:
        for finding in walk.findings:
            logins, example = by_page.setdefault(finding.url, {}).setdefault(
                (finding.kind, finding.detail), (set(), finding.example)
            )
            logins.add(finding.login)
    lines = [", ".join(f"{walk.login}: {len(walk.visited)} pages" for walk in walks)]
    for url in sorted(by_page):
        lines.append(url)
        for (kind, detail), (logins, example) in sorted(by_page[url].items()):
            lines.append(f"  {kind}: {detail}  [{', '.join(sorted(logins))}]")
            if example:
                lines.append(f"      in: {example}")
    return "\n".join(lines)
