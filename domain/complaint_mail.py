"""Reading a complaint e-mail as mail servers deliver it: hostile until parsed.

The message is parsed with the standard library's policy-aware parser and decoded
defensively: the sender is the address part of ``From`` as the address parser reads it
(never a substring of the display name), unknown charsets decode with replacement
characters, MIME nesting is bounded, control characters are removed from what people
read, and nothing is refused for being long: the text shown is cut where it must be and
:attr:`ReceivedMail.cuts` says what was cut, while the original message is kept whole.
Attachments come back with their content, media type and SHA-256 (to be stored by
content); a file name from the mail is only ever shown, never used to write a file.
"""

from __future__ import annotations

import codecs
import email.header
import email.policy
import hashlib
import json
import re
from collections.abc import Iterator
from email.message import EmailMessage, Message
from email.parser import BytesParser
from html.parser import HTMLParser

from pydantic import BaseModel

from domain.complaints import (
    DESCRIPTION_LIMIT,
    MESSAGE_ID_LIMIT,
    SUBJECT_LIMIT,
    ComplaintChannel,
    ComplaintIntake,
    sender_address,
)

MAX_MIME_DEPTH = 20
"""Deepest MIME nesting read; real mail nests a few levels (mixed > alternative > related)."""
MAX_MULTIPARTS = 200
"""More multipart containers than this and only the headers are read (the standard
library's parser recurses once per level, so thousands of nested parts would exhaust it)."""
MAX_ATTACHMENTS = 500
"""Attachments listed per message; the original keeps any further ones."""
FILENAME_LIMIT = 200
"""Characters of an attachment's name shown (the name is only ever shown)."""
MEDIA_TYPE_LIMIT = 127
"""RFC 6838: type and subtype names are at most 127 characters together."""
DIGEST_PREFIX = "sha256:"
"""Message key of a message without a (usable) Message-ID: a digest of what it says."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_LINE_BREAKS = re.compile(r"\r\n?")
_SPACES = re.compile(r"\s+")


class MailAttachment(BaseModel):
    """One attachment of a message."""

    filename: str
    """As the mail names it, cleaned, for showing only."""
    media_type: str
    size: int
    sha256: str
    content: bytes | None
    """None: larger than the size limit, kept only inside the original message."""


class ReceivedMail(BaseModel):
    """What a complaint e-mail says, cleaned for people, with the original kept."""

    sender: str
    """The address part of ``From`` (lower case); empty when it names no single address."""
    from_header: str
    """``From`` as written (cleaned), shown when it names no single address."""
    subject: str
    text: str
    """The message's text: the plain-text part, else the HTML part's text."""
    message_key: str
    """The Message-ID, or ``sha256:<digest>`` of the sender, date, subject and body."""
    original: bytes
    attachments: list[MailAttachment] = []
    cuts: list[str] = []
    """What was cut, replaced or left out, in words (empty: shown as sent)."""

    def intake(self) -> ComplaintIntake:
        """The complaint this e-mail makes (its attachments are kept with the message); no
        ``from_address`` when ``From`` names no single address (filed with the mail, the
        complaint then shows the header as written and matches nobody)."""
        return ComplaintIntake(
            channel=ComplaintChannel.EMAIL,
            from_address=self.sender,
            subject=self.subject or "(no subject)",
            description=self.text or "(no text)",
            message_id=self.message_key,
        )


def read_mail(raw: bytes, attachment_limit: int) -> ReceivedMail:
    """Read ``raw`` (an RFC 5322 message); never raises on what the message contains."""
    cuts: list[str] = []
    message = _parse(raw, cuts)
    # The sender is read from the header as written: the parsed header's text is already
    # the parser's one guess at an ambiguous list (``<jane@…> <attacker@…>``).
    written_from = _raw_header(message, "From")
    # Shown with a visible mark where a control character was: no look-alike of an address.
    from_header = _clean_line(_CONTROL.sub("\ufffd", written_from), cuts, "From")
    sender = sender_address(_storable(written_from, [], "From"))
    subject = _header(message, "Subject")
    _count_replaced(_raw_header(message, "Subject"), subject, cuts, "subject")
    subject = _clean_line(subject, cuts, "subject")
    subject = _cut(subject, SUBJECT_LIMIT, "subject", cuts)
    body, leaves = _body_and_attachments(message, cuts)
    text = "" if body is None else _text_of(body, cuts)
    text = _cut(text, DESCRIPTION_LIMIT, "text", cuts)
    attachments = [_attachment(part, number, attachment_limit, cuts) for number, part in leaves]
    return ReceivedMail(
        sender=sender,
        from_header=from_header,
        subject=subject,
        text=text,
        message_key=_message_key(message, raw),
        original=raw,
        attachments=attachments,
        cuts=cuts,
    )


def clean_text(text: str, cuts: list[str], what: str) -> str:
    """``text`` without control characters (tab and line breaks stay, as ``\\n``) and with
    lone surrogates replaced; ``cuts`` is told what went."""
    text = _LINE_BREAKS.sub("\n", _storable(text, cuts, what))
    removed = len(_CONTROL.findall(text))
    if removed:
        cuts.append(f"{what}: {removed} control character(s) removed")
    return _CONTROL.sub("", text)


def html_to_text(html: str) -> str:
    """The text a reader sees in an HTML mail: entities decoded, no tags, scripts or
    styles, a line break per block."""
    reader = _HtmlText()
    reader.feed(html)
    reader.close()
    lines = (_SPACES.sub(" ", line).strip() for line in "".join(reader.pieces).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


class _HtmlText(HTMLParser):
    BLOCKS = frozenset(
        [
            "address",
            "article",
            "aside",
            "blockquote",
            "dd",
            "div",
            "dl",
            "dt",
            "footer",
            "form",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "header",
            "hr",
            "li",
            "main",
            "nav",
            "ol",
            "p",
            "pre",
            "section",
            "table",
            "tr",
            "ul",
        ]
    )
    HIDDEN = frozenset({"script", "style", "head", "title", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag == "br":
            self.pieces.append("\n")
        elif tag in self.BLOCKS:
            self.pieces.append("\n- " if tag == "li" else "\n")
        elif tag in ("td", "th"):
            self.pieces.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.pieces.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.pieces.append(data)


def _parse(raw: bytes, cuts: list[str]) -> EmailMessage:
    parser = BytesParser(policy=email.policy.default)
    if raw.lower().count(b"multipart/") <= MAX_MULTIPARTS:
        try:
            message = parser.parsebytes(raw)
            assert isinstance(message, EmailMessage)
            return message
        except RecursionError:
            pass
    cuts.append(
        f"the message nests more than {MAX_MULTIPARTS} multipart parts: only its headers "
        "were read (the original message is kept)"
    )
    message = parser.parsebytes(raw, headersonly=True)
    assert isinstance(message, EmailMessage)
    message.set_payload("")
    return message


def _header(message: Message, name: str) -> str:
    """The header decoded (RFC 2047 words included); its raw text if it cannot be."""
    try:
        value = message.get(name)
    except Exception:
        value = None
        for key, raw in message.raw_items():
            if key.lower() == name.lower():
                value = raw
                break
    return "" if value is None else str(value)


def _raw_header(message: Message, name: str) -> str:
    """The header's text as the message wrote it (unfolded, RFC 2047 words still encoded)."""
    for key, raw in message.raw_items():
        if key.lower() == name.lower():
            return re.sub(r"\r?\n[ \t]", " ", str(raw))
    return ""


def _count_replaced(written: str, decoded: str, cuts: list[str], what: str) -> None:
    """Tell ``cuts`` how many characters of a header could not be decoded (an unknown
    charset, bytes that are not text in theirs): the parser puts U+FFFD there silently.
    A U+FFFD the sender really wrote is not counted."""
    sent = 0
    try:
        words = email.header.decode_header(written)
    except Exception:  # not RFC 2047 as the parser reads it: count nothing as written
        words = []
    for chunk, charset in words:
        data = chunk if isinstance(chunk, bytes) else chunk.encode("utf-8", "surrogateescape")
        try:
            sent += data.decode(charset or "utf-8").count("\ufffd")
        except (LookupError, UnicodeError):
            continue  # not decodable as written: any U+FFFD here is a replacement
    replaced = decoded.count("\ufffd") - sent
    if replaced > 0:
        cuts.append(f"{what}: {replaced} undecodable character(s) shown as \ufffd")


def _storable(text: str, cuts: list[str], what: str) -> str:
    replaced = len(_SURROGATE.findall(text))
    if replaced:
        cuts.append(f"{what}: {replaced} undecodable byte(s) shown as \ufffd")
    return _SURROGATE.sub("\ufffd", text)


def _clean_line(text: str, cuts: list[str], what: str) -> str:
    return _SPACES.sub(" ", clean_text(text, cuts, what)).strip()


def _cut(text: str, limit: int, what: str, cuts: list[str]) -> str:
    if len(text) <= limit:
        return text
    cuts.append(
        f"{what}: {len(text):,} characters, the first {limit:,} shown "
        "(the whole is in the original message)"
    )
    return text[:limit]


def _leaves(part: Message, depth: int, cuts: list[str]) -> Iterator[Message]:
    # A forwarded message is one attachment, not parts of this one.
    if not part.is_multipart() or (depth and part.get_content_maintype() == "message"):
        yield part
        return
    if depth >= MAX_MIME_DEPTH:
        cuts.append(f"parts nested deeper than {MAX_MIME_DEPTH} levels were not read")
        return
    payload = part.get_payload()
    for child in payload if isinstance(payload, list) else []:
        if isinstance(child, Message):
            yield from _leaves(child, depth + 1, cuts)


def _body_and_attachments(
    message: EmailMessage, cuts: list[str]
) -> tuple[Message | None, list[tuple[int, Message]]]:
    """The part whose text is shown (plain text preferred), and the attachments."""
    leaves = list(_leaves(message, 0, cuts))
    texts = [leaf for leaf in leaves if _is_text(leaf)]
    body = next((leaf for leaf in texts if leaf.get_content_type() == "text/plain"), None)
    body = body or next(iter(texts), None)
    others = [leaf for leaf in leaves if leaf is not body and not _is_text(leaf)]
    if len(others) > MAX_ATTACHMENTS:
        cuts.append(
            f"{len(others)} attachments: the first {MAX_ATTACHMENTS} listed "
            "(the original message keeps them all)"
        )
    return body, list(enumerate(others[:MAX_ATTACHMENTS], start=1))


def _is_text(part: Message) -> bool:
    """A text version of the message (not a file attached to it)."""
    return (
        part.get_content_type() in ("text/plain", "text/html")
        and part.get_content_disposition() != "attachment"
        and not _filename(part)
    )


def _filename(part: Message) -> str:
    try:
        return part.get_filename() or ""
    except Exception:
        return ""


def _payload(part: Message) -> bytes:
    try:
        if part.get_content_maintype() == "message":
            inner = part.get_payload()
            first = inner[0] if isinstance(inner, list) and inner else inner
            return first.as_bytes() if isinstance(first, Message) else b""
        content = part.get_payload(decode=True)
    except Exception:
        content = str(part.get_payload()).encode("utf-8", "replace")
    return content if isinstance(content, bytes) else b""


def _text_of(part: Message, cuts: list[str]) -> str:
    raw = _payload(part)
    charset = part.get_content_charset() or "us-ascii"
    try:
        codec = codecs.lookup(charset).name
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        cuts.append(f"text: unknown charset {_printable(charset)[:40]!r}, read as UTF-8")
        codec = "utf-8"
    text = raw.decode(codec, "replace") if codec != "us-ascii" else raw.decode("utf-8", "replace")
    if "\ufffd" in text and b"\xef\xbf\xbd" not in raw:
        cuts.append("text: bytes that are not text in its charset shown as \ufffd")
    text = clean_text(text, cuts, "text")
    if part.get_content_type() == "text/html":
        text = html_to_text(text)
    return text.strip()


def _attachment(part: Message, number: int, limit: int, cuts: list[str]) -> MailAttachment:
    scratch: list[str] = []
    name = _clean_line(_filename(part), scratch, "name") or f"attachment-{number}"
    if len(name) > FILENAME_LIMIT:
        cuts.append(f"attachment {number}: its {len(name):,}-character name shortened")
        name = name[:FILENAME_LIMIT]
    content = _payload(part)
    kept: bytes | None = content
    if len(content) > limit:
        cuts.append(
            f"attachment {number} ({name}): {len(content):,} bytes, over the limit of "
            f"{limit:,}; not stored on its own (it is in the original message)"
        )
        kept = None
    return MailAttachment(
        filename=name,
        media_type=_media_type(part),
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=kept,
    )


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in text)


_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")


def _media_type(part: Message) -> str:
    """The part's media type if it is one (RFC 6838's characters), else what a file of
    unknown type is."""
    claimed = part.get_content_type()
    if len(claimed) <= MEDIA_TYPE_LIMIT and _MEDIA_TYPE.fullmatch(claimed):
        return claimed
    return "application/octet-stream"


def _message_key(message: Message, raw: bytes) -> str:
    """The Message-ID; for a message without a usable one, a digest of who sent what when
    (not of the whole file: relays add headers, so a redelivery differs there)."""
    scratch: list[str] = []
    message_id = _clean_line(_header(message, "Message-ID"), scratch, "id")
    if message_id and len(message_id) <= MESSAGE_ID_LIMIT:
        return message_id
    separator = re.search(rb"\r?\n\r?\n", raw)
    body = raw[separator.end() :] if separator else b""
    digest = hashlib.sha256()
    for name in ("From", "Date", "Subject", "To"):
        digest.update(_header(message, name).encode("utf-8", "replace") + b"\0")
    digest.update(body.replace(b"\r\n", b"\n"))
    return DIGEST_PREFIX + digest.hexdigest()


def intake_key(intake: ComplaintIntake) -> str:
    """The message key of a complaint sent as fields without a message id: a digest of
    everything it says (channel, sender, customer, order, parcel, category, subject, text,
    attachments, who took it), so a gateway sending it again files nothing new. Two
    complaints that differ in nothing are one; a gateway that means two gives each its
    own message id."""
    fields = intake.model_dump(mode="json", exclude={"message_id"})
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return DIGEST_PREFIX + hashlib.sha256(b"intake\0" + canonical.encode()).hexdigest()
