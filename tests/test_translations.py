"""Every page in Traditional Chinese: each message the console shows has a translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

WEB = Path(__file__).resolve().parent.parent / "web"
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
KEYWORDS = {"_": None, "gettext": None, "N_": None}


def test_every_console_message_is_translated_into_traditional_chinese() -> None:
    shown = {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(
            WEB, METHODS, keywords=KEYWORDS
        )
    }
    with (WEB / "locales" / "zh_Hant" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalogue = {m.id: m.string for m in read_po(po, locale="zh_Hant") if m.id}
    assert len(shown) > 150
    untranslated = sorted(m for m in shown if not catalogue.get(m))
    assert untranslated == []
