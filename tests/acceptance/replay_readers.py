"""Readers of what a replay produced, run in worker processes: mail as it arrived, PDF text.

Both are plain top-level functions returning small picklable records, so the acceptance
fixtures can hand them to a process pool and keep the replay's own process busy replaying.
"""

from __future__ import annotations

import email.policy
import hashlib
import io
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from pypdf import PdfReader

from notifications.transport import KEY_HEADER

HEADERS = ("Subject", "From", "To", "Cc", "Date", "Message-ID", KEY_HEADER)


@dataclass(frozen=True)
class Attached:
    """One attachment of an arrived message."""

    filename: str | None
    content_type: str
    sha256: str
    head: bytes


@dataclass(frozen=True)
class Mail:
    """One message as the SMTP server got it, parsed with the standard library."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    headers: dict[str, str]           # decoded
    raw_headers: bytes                # as sent, up to the first blank line
    text: str
    attachments: tuple[Attached, ...]
    defects: tuple[str, ...]

    @property
    def key(self) -> str:
        """The outbox dedupe key the message carries."""
        return self.headers.get(KEY_HEADER, "")


def parse_mail(mail_from: str, rcpt_tos: tuple[str, ...], raw: bytes) -> Mail:
    """Parse a message; whatever goes wrong is kept as a defect, never raised."""
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    try:
        msg = BytesParser(policy=email.policy.default).parsebytes(raw)
        assert isinstance(msg, EmailMessage)
        defects = [repr(d) for part in msg.walk() for d in part.defects]
        body = msg.get_body(("plain",))
        text = body.get_content() if isinstance(body, EmailMessage) else ""
        files = tuple(Attached(p.get_filename(), p.get_content_type(),
                               hashlib.sha256(data).hexdigest(), data[:8])
                      for p in msg.iter_attachments()
                      for data in [p.get_content()] if isinstance(data, bytes))
        headers = {h: str(msg[h]) for h in HEADERS if msg[h] is not None}
    except Exception as exc:  # noqa: BLE001 - a broken message is a finding, not a crash
        return Mail(mail_from, rcpt_tos, {}, head, "", (), (f"{type(exc).__name__}: {exc}",))
    return Mail(mail_from, rcpt_tos, headers, head, text, files, tuple(defects))


def pdf_text(path: Path) -> str:
    """A PDF's text (pypdf) with every blank removed: cells and lines break names apart."""
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))
