"""How mail leaves: an SMTP server (``DUBAN_SMTP_URL``) or ``.eml`` files under the data directory.

A transport has a ``sender`` (the From address) and ``send(message)``. It raises ``MailError``
for a failure worth retrying and ``PermanentMailError`` when retrying cannot help (5xx replies).
"""

from __future__ import annotations

import hashlib
import os
import re
import smtplib
import ssl
import tempfile
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from engine.config import Config
from engine.errors import DubanError, ValidationError

KEY_HEADER = "X-Duban-Key"


class MailError(DubanError):
    """Sending failed; a later attempt may succeed."""


class PermanentMailError(MailError):
    """The server refused the message for good (5xx); retrying cannot help."""


class Transport(Protocol):
    """Something that can send an ``EmailMessage`` from ``sender``."""

    sender: str

    def send(self, message: EmailMessage) -> None:
        """Send or raise ``MailError``."""
        ...


class SmtpTransport:
    """SMTP: ``smtp://[user:pass@]host[:port][?starttls=1]`` or ``smtps://…``."""

    def __init__(self, url: str, *, sender: str = "duban@localhost", timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValidationError(f"DUBAN_SMTP_URL 无效（应为 smtp://主机:端口 或 smtps://…）：{url}")
        self.sender = sender
        self.timeout = timeout
        self.ssl = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.ssl else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        flag = parse_qs(parts.query).get("starttls", ["0"])[0].lower()
        self.starttls = flag in ("1", "true", "yes")

    def __repr__(self) -> str:
        return f"SmtpTransport({'smtps' if self.ssl else 'smtp'}://{self.host}:{self.port})"

    def _connect(self) -> smtplib.SMTP:
        if self.ssl:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                    context=ssl.create_default_context())
        conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.starttls:
            conn.starttls(context=ssl.create_default_context())
        return conn

    def send(self, message: EmailMessage) -> None:
        """Send one message; refused recipients or a 5xx reply are permanent."""
        try:
            with self._connect() as conn:
                if self.user:
                    conn.login(self.user, self.password or "")
                refused = conn.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise _classify(exc.recipients, "所有收件人均被拒绝") from exc
        except smtplib.SMTPResponseException as exc:
            error = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
            if exc.smtp_code >= 500:
                raise PermanentMailError(error) from exc
            raise MailError(error) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"SMTP 服务器 {self.host}:{self.port} 不可用：{exc}") from exc
        if refused:
            raise PermanentMailError(f"部分收件人被拒绝：{sorted(refused)}")


def _classify(recipients: dict[str, tuple[int, bytes]], what: str) -> MailError:
    """Permanent when every refusal is a 5xx, otherwise worth another try."""
    error = f"{what}：{recipients!r}"
    if all(code >= 500 for code, _ in recipients.values()):
        return PermanentMailError(error)
    return MailError(error)


class EmlTransport:
    """Writes each message as ``<dir>/<safe key>.eml``; a re-send overwrites the same file."""

    def __init__(self, directory: Path, *, sender: str = "duban@localhost") -> None:
        self.directory = Path(directory)
        self.sender = sender

    def __repr__(self) -> str:
        return f"EmlTransport({str(self.directory)!r})"

    def path_for(self, key: str) -> Path:
        """The file a message with dedupe key ``key`` is written to."""
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", key, flags=re.ASCII).strip("._")[:100]
        digest = hashlib.sha256(key.encode()).hexdigest()[:10]
        return self.directory / f"{safe}-{digest}.eml"

    def send(self, message: EmailMessage) -> None:
        """Write atomically: a temporary file in the same directory, then rename."""
        key = str(message.get(KEY_HEADER) or message["Message-ID"] or "message")
        target = self.path_for(key)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".eml")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(message.as_bytes())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise MailError(f"无法写入邮件文件 {target}：{exc}") from exc


def transport_from_config(config: Config) -> Transport:
    """SMTP when ``DUBAN_SMTP_URL`` is set, otherwise ``.eml`` files under ``<data>/outbox``."""
    if config.smtp_url:
        return SmtpTransport(config.smtp_url, sender=config.mail_from)
    return EmlTransport(config.outbox_dir, sender=config.mail_from)
