"""Every page in Traditional Chinese: each message the console shows has a translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
KEYWORDS = {"_": None, "gettext": None, "N_": None}
WRITERS = ("domain", "workflows", "activities", "persistence")
"""Where sentences for people are written as wordings (``N_``), rendered by the console."""


def test_every_console_message_is_translated_into_traditional_chinese() -> None:
    extracted = [*extract_from_dir(WEB, METHODS, keywords=KEYWORDS)]
    for folder in WRITERS:
        extracted += extract_from_dir(ROOT / folder, [("**.py", "python")], keywords={"N_": None})
    shown = {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extracted
    }
    with (WEB / "locales" / "zh_Hant" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalogue = {m.id: m.string for m in read_po(po, locale="zh_Hant") if m.id}
    assert len(shown) > 150
    untranslated = sorted(m for m in shown if not catalogue.get(m))
    assert untranslated == []
