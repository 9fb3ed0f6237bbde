"""Issue 25, e-mail intake tried from outside (items 1 and 13 to 17): mail as real mail
servers deliver it and as an attacker writes it, imported with ``oms complaints
import-eml``'s own loop and posted to ``POST /api/v1/complaints``. Both databases; the
case workflows are stood in for by a client that records what it was asked to do."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from domain.access import Role, SystemRole
from domain.complaint_mail import read_mail
from domain.complaints import (
    CUSTOMER_REPLIED_SIGNAL,
    ComplaintChannel,
    ComplaintIntake,
    sender_address,
)
from ops.complaints import import_mail
from persistence.database import Database
from persistence.models import (
    AttachmentContent,
    ComplaintAttachmentRow,
    ComplaintMailRow,
    ComplaintRow,
    CustomerContact,
)
from persistence.transactions import accounts, api_keys
from persistence.transactions.complaints import (
    REPLY_HANDOVER_GRACE,
    erase_complaint_mail,
    file_complaint,
    find_case,
    reply_delivered,
)
from runtime.settings import Settings
from tests.test_web_actions import log_in
from web.app import create_app

POLICY = Settings().complaint_policy()


@dataclass
class RecordingCases:
    """Stands in for Temporal: the case workflows started and the signals sent to them."""

    started: list[str] = field(default_factory=list)
    signals: list[tuple[str, str, Any]] = field(default_factory=list)

    async def start_workflow(self, _workflow: str, _start: Any, *, id: str, **_: Any) -> None:
        self.started.append(id)

    def get_workflow_handle(self, workflow_id: str) -> _Handle:
        return _Handle(self, workflow_id)


@dataclass
class _Handle:
    cases: RecordingCases
    workflow_id: str

    async def signal(self, name: str, argument: Any) -> None:
        self.cases.signals.append((self.workflow_id, name, argument))


class UnreachableCases(RecordingCases):
    """Temporal out of reach: nothing can be started or signalled."""

    async def start_workflow(self, _workflow: str, _start: Any, *, id: str, **_: Any) -> None:
        raise RPCError("unavailable", RPCStatusCode.UNAVAILABLE, b"")

    def get_workflow_handle(self, workflow_id: str) -> _Handle:
        return _Unreachable(self, workflow_id)


@dataclass
class _Unreachable(_Handle):
    async def signal(self, name: str, argument: Any) -> None:
        raise RPCError("unavailable", RPCStatusCode.UNAVAILABLE, b"")


def janes_case(db: Database) -> int:
    return file_complaint(
        db,
        ComplaintIntake(
            channel=ComplaintChannel.PHONE,
            customer_id="CUST-JANE",
            subject="Parcel late",
            description="A week late.",
            taken_by="mia.chen",
        ),
    ).case.id


def eml(folder: Path, name: str, headers: str, body: bytes = b"Hello.\n") -> Path:
    path = folder / name
    path.write_bytes(headers.strip().replace("\n", "\r\n").encode() + b"\r\n\r\n" + body)
    return path


async def imported(
    db: Database, *files: Path, limit: int = 1024
) -> tuple[list[Any], RecordingCases]:
    cases = RecordingCases()
    done = await import_mail(cast(Client, cases), db, files, POLICY, limit)
    return done, cases


def complaint(db: Database, number: int) -> ComplaintRow:
    with db.reading() as session:
        row = session.get(ComplaintRow, number)
        assert row is not None
        return row


# --- 1. a display name is not the sender --------------------------------------------


@pytest.mark.parametrize(
    "sender",
    [
        '"<jane@example.org>" <attacker@evil.example>',
        "=?utf-8?q?=3Cjane=40example=2Eorg=3E?= <attacker@evil.example>",
        "<jane@example.org> <attacker@evil.example>",
    ],
)
async def test_a_display_name_naming_jane_does_not_reply_into_her_case(
    db: Database, tmp_path: Path, sender: str
) -> None:
    number = janes_case(db)
    hijack = eml(
        tmp_path,
        "hijack.eml",
        f"From: {sender}\nSubject: Re: [Complaint #{number}] cancel my refund\n"
        "Message-ID: <hijack@evil.example>",
    )
    [result], cases = await imported(db, hijack)
    assert result.outcome == "filed"
    assert result.complaint_id != number
    assert cases.signals == []  # Jane's case heard nothing
    row = complaint(db, result.complaint_id)
    assert row.customer_id is None  # a new complaint of nobody we know
    assert row.from_address != "jane@example.org"


async def test_the_api_reads_from_address_the_same_way(db: Database) -> None:
    number = janes_case(db)
    forged = ComplaintIntake(
        channel=ComplaintChannel.EMAIL,
        from_address='"<jane@example.org>" <attacker@evil.example>',
        subject=f"Re: [Complaint #{number}]",
        description="Please close it.",
        message_id="forged-1",
    )
    filed = file_complaint(db, forged)
    assert (filed.reopen, filed.case.customer_id) == (False, None)
    assert complaint(db, filed.case.id).from_address == "attacker@evil.example"
    # Naming Jane as the customer does not help either: the address must be hers.
    named = file_complaint(
        db, forged.model_copy(update={"customer_id": "CUST-JANE", "message_id": "forged-2"})
    )
    assert (named.reopen, named.case.customer_id) == (False, "CUST-JANE")
    assert named.case.id != number


async def test_jane_and_her_contact_reply_into_her_case(db: Database, tmp_path: Path) -> None:
    number = janes_case(db)
    with db.transaction() as session:
        session.add(CustomerContact(customer_id="CUST-JANE", name="Joe", email="Joe@Example.org"))
    jane = eml(
        tmp_path,
        "jane.eml",
        f'From: "Jane Doe" <JANE@example.org>\nSubject: Re: [Complaint #{number}]\n'
        "Message-ID: <jane-1@example.org>",
    )
    joe = eml(
        tmp_path,
        "joe.eml",
        f"From: joe@example.org\nSubject: Re: [Complaint #{number}]\nMessage-ID: <joe-1@x>",
    )
    done, cases = await imported(db, jane, joe)
    assert [(r.complaint_id, r.outcome) for r in done] == [(number, "reply to the case")] * 2
    assert [(w, s) for w, s, _ in cases.signals] == [
        (f"complaint-{number}", CUSTOMER_REPLIED_SIGNAL)
    ] * 2


# --- 13. the importer never crashes ---------------------------------------------------


def nested(depth: int) -> bytes:
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    )
    closing = b"".join(b"--b%d--\r\n" % i for i in reversed(range(depth)))
    return opening + b"Content-Type: text/plain\r\n\r\ndeep inside\r\n" + closing


async def test_hostile_mail_is_filed_and_the_batch_goes_on(db: Database, tmp_path: Path) -> None:
    unknown_charset = eml(
        tmp_path,
        "8bit.eml",
        "From: jane@example.org\nSubject: Caf\xe9\nMessage-ID: <8bit@x>\n"
        "Content-Type: text/plain; charset=unknown-8bit\nContent-Transfer-Encoding: 8bit",
        b"Das Ger\xe4t ist kaputt.\r\n",
    )
    deep = tmp_path / "deep.eml"
    deep.write_bytes(
        b"From: jane@example.org\r\nSubject: deep\r\nMessage-ID: <deep@x>\r\n"
        b"MIME-Version: 1.0\r\n" + nested(3000)
    )
    huge_number = eml(
        tmp_path,
        "number.eml",
        "From: jane@example.org\nSubject: Re: [Complaint #99999999999999999999999]\n"
        "Message-ID: <number@x>",
    )
    plain = eml(tmp_path, "plain.eml", "From: jane@example.org\nSubject: ok\nMessage-ID: <ok@x>")
    done, cases = await imported(db, unknown_charset, deep, huge_number, plain)
    assert [r.outcome for r in done] == ["filed"] * 4
    assert len(cases.started) == 4
    text = complaint(db, done[0].complaint_id).description
    assert text.startswith("Das Ger")
    assert "kaputt" in text
    assert "\ufffd" in text
    with db.reading() as session:
        cuts = session.scalars(
            select(ComplaintMailRow.cuts).where(
                ComplaintMailRow.complaint_id == done[1].complaint_id
            )
        ).one()
    assert "only its headers were read" in " ".join(cuts)


async def test_a_case_number_no_complaint_can_have_is_no_case_number(db: Database) -> None:
    for number in (2**63, 10**23, 2**31):
        filed = file_complaint(
            db,
            ComplaintIntake(
                channel=ComplaintChannel.EMAIL,
                from_address="jane@example.org",
                subject=f"Re: [Complaint #{number}]",
                description="Hello",
                message_id=f"n-{number}",
            ),
        )
        assert not filed.reopen
        assert filed.case.customer_id == "CUST-JANE"


def test_the_api_answers_a_case_number_of_2_to_the_63_with_a_new_complaint(
    db: Database, database_url: str
) -> None:
    key = api_keys.create_api_key(db, "gateway", SystemRole.INTAKE, actor="t").key
    cases = RecordingCases()
    api = TestClient(create_app(Settings(database_url=database_url), db, cast(Client, cases)))
    answer = api.post(
        "/api/v1/complaints",
        json={
            "channel": "email",
            "from_address": "jane@example.org",
            "subject": f"Re: [Complaint #{2**63}]",
            "description": "Where is my parcel?",
            "message_id": "gw-1",
        },
        headers={"Authorization": f"Bearer {key}"},
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["reply_to_case"] is False
    assert cases.started == [answer.json()["workflow_id"]]


# --- 14. every complaint is kept, whole ------------------------------------------------


async def test_long_and_odd_mail_is_kept_whole_and_says_what_was_cut(
    db: Database, tmp_path: Path
) -> None:
    subject = "Broken " * 60  # 420 characters
    body = ("The lid was cracked. " * 400).encode() + b"\x07end\r\n"  # 8,400 characters
    many = "".join(
        f"--b\r\nContent-Type: image/png\r\nContent-Disposition: attachment; "
        f'filename="{"photo" * 120}-{n}.png"\r\n\r\nPNG{n}\r\n'
        for n in range(25)
    )
    mail = tmp_path / "long.eml"
    mail.write_bytes(
        f"From: jane@example.org\r\nSubject: {subject}\x01\r\nMessage-ID: <long@x>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n".encode()
        + body
        + many.encode()
        + b"--b--\r\n"
    )
    [result], _ = await imported(db, mail)
    assert result.outcome == "filed"
    assert any("control character" in cut for cut in result.cuts)  # oms says it too
    row = complaint(db, result.complaint_id)
    assert row.subject == subject.strip()
    assert len(row.description) > 8000
    assert row.description.endswith("end")
    with db.reading() as session:
        kept = session.scalars(
            select(ComplaintMailRow).where(ComplaintMailRow.complaint_id == row.id)
        ).one()
        assert kept.original == mail.read_bytes()
        assert any("control character" in cut for cut in kept.cuts)
        assert sum("name shortened" in cut for cut in kept.cuts) == 25
        names = session.scalars(
            select(ComplaintAttachmentRow.filename).where(
                ComplaintAttachmentRow.complaint_id == row.id
            )
        ).all()
    assert len(names) == 25
    assert all(len(name) == 200 for name in names)


# --- 15. attachments stored by content, downloaded by those who may open the case -----


async def test_attachments_are_stored_by_content_and_downloaded_in_the_console(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    photo = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    large = b"x" * 5000

    first = _mail(tmp_path, "first.eml", "<a1@x>", photo, large)
    second = _mail(tmp_path, "second.eml", "<a2@x>", photo, large)
    done, _ = await imported(db, first, second, limit=1024)
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(AttachmentContent)) == 1
        stored = session.get(AttachmentContent, hashlib.sha256(photo).hexdigest())
        assert stored is not None
        assert stored.content == photo
        rows = session.scalars(
            select(ComplaintAttachmentRow).where(
                ComplaintAttachmentRow.complaint_id == done[0].complaint_id
            )
        ).all()
    [kept] = [row for row in rows if row.sha256 is not None]
    [too_large] = [row for row in rows if row.sha256 is None]
    assert (kept.media_type, too_large.size) == ("image/png", 5000)
    assert _files(tmp_path) == ["first.eml", "second.eml"]  # nothing written from the mail

    accounts.create_user(db, "mia.chen", "correct horse battery", Role.CUSTOMER_SERVICE, actor="t")
    accounts.create_user(db, "wes.w", "correct horse battery", Role.WAREHOUSE, actor="t")
    console = TestClient(
        create_app(Settings(database_url=database_url), db, cast(Client, RecordingCases())),
        follow_redirects=False,
    )
    number = done[0].complaint_id
    address = f"/complaints/{number}/attachments/{kept.id}"
    assert console.get(address).status_code in (303, 401)  # not logged in
    log_in(console, "wes.w")
    assert console.get(address).status_code in (303, 403)  # may not open complaints
    log_in(console, "mia.chen")
    page = console.get(f"/complaints/{number}")
    assert address in page.text
    assert "only in the original message" in page.text
    download = console.get(address)
    assert download.status_code == 200
    assert download.content == photo
    assert download.headers["content-type"] == "image/png"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert "../" not in download.headers["content-disposition"]
    original = console.get(f"/complaints/{number}/mail/{kept.mail_id}/original")
    assert original.content == first.read_bytes()
    other_case = console.get(f"/complaints/{done[1].complaint_id}/attachments/{kept.id}")
    assert other_case.status_code == 404


def _files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def _mail(folder: Path, name: str, message_id: str, photo: bytes, large: bytes) -> Path:
    parts = "".join(
        f"--b\r\nContent-Type: {kind}\r\nContent-Transfer-Encoding: base64\r\n"
        f'Content-Disposition: attachment; filename="{filename}"\r\n\r\n'
        f"{base64.b64encode(content).decode()}\r\n"
        for kind, filename, content in (
            ("image/png", "../../etc/passwd.png", photo),
            ("application/pdf", "big.pdf", large),
        )
    )
    path = folder / name
    path.write_bytes(
        f"From: jane@example.org\r\nSubject: photo\r\nMessage-ID: {message_id}\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        f"--b\r\nContent-Type: text/plain\r\n\r\nSee the photo.\r\n{parts}--b--\r\n".encode()
    )
    return path


# --- 16. a reply delivered ten times is appended once ---------------------------------


async def test_a_reply_delivered_ten_times_reaches_the_case_once(
    db: Database, tmp_path: Path
) -> None:
    number = janes_case(db)
    reply = eml(
        tmp_path,
        "reply.eml",
        f"From: jane@example.org\nSubject: Re: [Complaint #{number}]\nMessage-ID: <r@x>",
    )
    done, cases = await imported(db, *[reply] * 10)
    assert [r.outcome for r in done] == ["reply to the case"] + ["duplicate"] * 9
    assert len(cases.signals) == 1


async def test_a_reply_that_could_not_reach_its_case_is_handed_over_when_it_comes_again(
    db: Database, tmp_path: Path
) -> None:
    number = janes_case(db)
    reply = eml(
        tmp_path,
        "reply.eml",
        f"From: jane@example.org\nSubject: Re: [Complaint #{number}]\nMessage-ID: <late@x>",
    )
    unreachable = UnreachableCases()
    [first] = await import_mail(cast(Client, unreachable), db, [reply], POLICY)
    assert first.complaint_id is None  # said: recorded, but the case was not told
    assert "could not be opened" in first.outcome
    done, cases = await imported(db, reply, reply)
    assert [r.outcome for r in done] == ["reply to the case", "duplicate"]
    assert len(cases.signals) == 1
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(ComplaintMailRow)) == 1


def test_parallel_deliveries_of_a_reply_hand_it_to_the_case_once(db: Database) -> None:
    number = janes_case(db)
    reply = ComplaintIntake(
        channel=ComplaintChannel.EMAIL,
        from_address="jane@example.org",
        subject=f"Re: [Complaint #{number}]",
        description="Any news?",
        message_id="<parallel@x>",
    )
    first = file_complaint(db, reply)
    assert (first.reopen, first.delivered) == (True, False)  # being handed over
    assert file_complaint(db, reply).duplicate  # meanwhile: a duplicate, not a second hand-over
    with db.transaction() as session:  # the first delivery died a while ago
        session.execute(
            update(ComplaintMailRow).values(
                handing_over_since=datetime.now(UTC) - REPLY_HANDOVER_GRACE - timedelta(seconds=1)
            )
        )
    taken_over = file_complaint(db, reply)
    assert (taken_over.reopen, taken_over.mail_id) == (True, first.mail_id)
    assert first.mail_id is not None
    reply_delivered(db, first.mail_id)
    assert file_complaint(db, reply).duplicate


async def test_a_message_without_message_id_is_filed_once(db: Database, tmp_path: Path) -> None:
    first = eml(tmp_path, "a.eml", "From: jane@example.org\nSubject: no id\nDate: Sun, 6 Dec 2026")
    relayed = eml(
        tmp_path,
        "b.eml",
        "Received: from relay.example\nFrom: jane@example.org\nSubject: no id\n"
        "Date: Sun, 6 Dec 2026",
    )
    done, cases = await imported(db, first, relayed)
    assert [r.outcome for r in done] == ["filed", "duplicate"]
    assert done[0].complaint_id == done[1].complaint_id
    assert len(cases.started) == 2
    assert complaint(db, done[0].complaint_id).message_id.startswith("sha256:")  # type: ignore[union-attr]


# --- 17. HTML-only mail shows its text --------------------------------------------------


async def test_html_only_mail_shows_its_text(db: Database, tmp_path: Path) -> None:
    mail = eml(
        tmp_path,
        "html.eml",
        "From: jane@example.org\nSubject: html\nMessage-ID: <h@x>\n"
        "Content-Type: text/html; charset=utf-8",
        b"<html><head><style>p {color: red}</style><script>x()</script></head><body>"
        b"<p>Caf&eacute; &amp; t&#233;a&nbsp;arrived <b>cold</b>.</p><p>Order A-1<br>Thanks</p>"
        b"</body></html>",
    )
    [result], _ = await imported(db, mail)
    assert complaint(db, result.complaint_id).description == (
        "Caf\u00e9 & t\u00e9a arrived cold.\n\nOrder A-1\nThanks"
    )


async def test_erasure_takes_the_mail_and_files_no_other_complaint_holds(
    db: Database, tmp_path: Path
) -> None:
    photo = b"\x89PNG same photo"
    janes = _mail(tmp_path, "jane.eml", "<e1@x>", photo, b"pdf")
    acmes = _mail(tmp_path, "acme.eml", "<e2@x>", photo, b"pdf")
    acmes.write_bytes(acmes.read_bytes().replace(b"jane@example.org", b"orders@acme.example"))
    done, _ = await imported(db, janes, acmes)
    jane, acme = (result.complaint_id for result in done)
    digest = hashlib.sha256(photo).hexdigest()
    with db.transaction() as session:
        erase_complaint_mail(session, [jane], "[erased]")
    with db.reading() as session:
        kept = session.scalars(
            select(ComplaintMailRow).where(ComplaintMailRow.complaint_id == jane)
        ).one()
        assert (kept.original, kept.subject) == (None, "[erased]")
        names = session.scalars(
            select(ComplaintAttachmentRow.filename).where(
                ComplaintAttachmentRow.complaint_id == jane
            )
        ).all()
        assert names == ["[erased]", "[erased]"]
        assert session.get(AttachmentContent, digest) is not None  # ACME's message holds it
    with db.transaction() as session:
        erase_complaint_mail(session, [acme], "[erased]")
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(AttachmentContent)) == 0


def test_oms_complaints_open_names_an_impossible_number_as_no_complaint(db: Database) -> None:
    assert find_case(db, 2**63) is None
    assert find_case(db, 10**23) is None


def test_a_forwarded_message_is_one_attachment_and_the_text_is_the_senders() -> None:
    forwarded = EmailMessage()
    forwarded["From"] = "shop@example.com"
    forwarded["Subject"] = "Your order"
    forwarded.set_content("Order A-1 shipped.")
    mail = EmailMessage()
    mail["From"] = "jane@example.org"
    mail["Subject"] = "Fwd: Your order"
    mail.set_content("It never came.")
    mail.add_attachment(forwarded)
    read = read_mail(mail.as_bytes(), 1024)
    assert read.text == "It never came."
    [attachment] = read.attachments
    assert attachment.media_type == "message/rfc822"
    assert attachment.content is not None
    assert b"Order A-1 shipped." in attachment.content


@pytest.mark.parametrize(
    ("written", "sender"),
    [
        ('"<jane@example.org>" <attacker@evil.example>', "attacker@evil.example"),
        ("=?utf-8?q?=3Cjane=40example=2Eorg=3E?= <attacker@evil.example>", "attacker@evil.example"),
        ("<jane@example.org> <attacker@evil.example>", ""),  # ambiguous: nobody
        ("jane@example.org, attacker@evil.example", ""),
        ('"Doe, Jane" <JANE@example.org>', "jane@example.org"),
        ("jane@example.org (Jane Doe)", "jane@example.org"),
        ("=?iso-8859-1?q?J=F6rg?= <jorg@example.de>", "jorg@example.de"),
        ("not an address", ""),
    ],
)
def test_the_sender_is_the_one_address_the_parsers_agree_on(written: str, sender: str) -> None:
    assert sender_address(written) == sender


def test_control_characters_in_headers_and_parameters_are_stored_cleaned(db: Database) -> None:
    raw = (
        b"From: jane@exam\x08ple.org\r\nSubject: a\x00b\r\nMessage-ID: <c@x>\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b'--b\r\nContent-Type: text/plain; charset="x-un\x00known"\r\n\r\nhello\r\n'
        b"--b\r\nContent-Type: ima\x00ge/png\r\n"
        b'Content-Disposition: attachment; filename="p\x01.png"\r\n\r\nPNG\r\n--b--\r\n'
    )
    mail = read_mail(raw, 1024)
    assert (mail.sender, mail.subject, mail.text) == ("", "ab", "hello")
    [attachment] = mail.attachments
    assert (attachment.filename, attachment.media_type) == ("p.png", "application/octet-stream")
    filed = file_complaint(db, mail.intake(), mail=mail)
    assert filed.case.customer_id is None  # no readable sender: kept for staff to link
    assert complaint(db, filed.case.id).from_address == "jane@exam\ufffdple.org"  # as written


# --- issue 25 again: intake over the API, header charsets, repeated replies -------------


def intake_api(
    db: Database, database_url: str
) -> tuple[TestClient, dict[str, str], RecordingCases]:
    """The API as the mail gateway reaches it, with a case client that records."""
    key = api_keys.create_api_key(db, "gateway", SystemRole.INTAKE, actor="t").key
    cases = RecordingCases()
    api = TestClient(create_app(Settings(database_url=database_url), db, cast(Client, cases)))
    return api, {"Authorization": f"Bearer {key}"}, cases


def test_a_complaint_posted_twice_without_message_id_is_filed_once(
    db: Database, database_url: str
) -> None:
    api, key, _cases = intake_api(db, database_url)
    body = {
        "channel": "email",
        "from_address": "jane@example.org",
        "subject": "no msgid",
        "description": "same",
    }
    first = api.post("/api/v1/complaints", json=body, headers=key)
    again = api.post("/api/v1/complaints", json=body, headers=key)
    other = api.post("/api/v1/complaints", json={**body, "description": "other"}, headers=key)
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert again.json()["duplicate"] is True
    assert again.json()["complaint_id"] == first.json()["complaint_id"]
    assert other.json()["complaint_id"] != first.json()["complaint_id"]
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(ComplaintRow)) == 2
    assert complaint(db, first.json()["complaint_id"]).message_id.startswith("sha256:")  # type: ignore[union-attr]


async def test_an_unreadable_header_charset_is_reported_as_replaced(
    db: Database, tmp_path: Path
) -> None:
    mail = eml(
        tmp_path,
        "charset.eml",
        "From: jane@example.org\nSubject: =?x-unknown?b?/////w==?= b1b\nMessage-ID: <cs@x>",
    )
    [done], _ = await imported(db, mail)
    assert complaint(db, done.complaint_id).subject == "\ufffd" * 4 + " b1b"
    assert done.cuts == ("subject: 4 undecodable character(s) shown as \ufffd",)
    written = read_mail("From: j@x\r\nSubject: \ufffd as written\r\n\r\n".encode(), 1024)
    assert (written.subject, written.cuts) == ("\ufffd as written", [])


@pytest.mark.parametrize("message_id", ["<reply-twice@x>", None])
def test_a_repeated_reply_says_it_went_to_the_case_as_the_first_did(
    db: Database, database_url: str, message_id: str | None
) -> None:
    number = janes_case(db)
    api, key, cases = intake_api(db, database_url)
    body = {
        "channel": "email",
        "from_address": "jane@example.org",
        "subject": f"Re: [Complaint #{number}]",
        "description": "Any news?",
    }
    if message_id is not None:
        body["message_id"] = message_id
    first, again = (api.post("/api/v1/complaints", json=body, headers=key) for _ in range(2))
    assert first.json()["reply_to_case"] is True
    assert again.json() == {**first.json(), "duplicate": True}
    assert again.json()["complaint_id"] == number
    assert [name for _, name, _ in cases.signals] == [CUSTOMER_REPLIED_SIGNAL]
