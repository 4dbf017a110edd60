"""The 二次督办通知 as a document: a dataclass rendered on the notices' base template
(notifications/templates/principal.html) through notifications.documents."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from engine.errors import ValidationError
from notifications.documents import Contact, NoticeItem, render_html, render_pdf


@dataclass(frozen=True)
class EarlierNotice:
    """An item of a second notice: the item, and the 督办通知 whose reply deadline passed."""

    item: NoticeItem
    notice_number: str
    notice_on: date
    reply_by: date


@dataclass(frozen=True)
class SecondNoticeDoc:
    """二次督办通知: to the principal (主要负责同志) of a unit that let the reply deadline of
    its 督办通知 pass without a reply."""

    number: str
    office: str
    unit: str                      # the unit's name valid on issued_on
    issued_on: date
    policy_title: str
    items: Sequence[EarlierNotice]
    reply_within_working_days: int
    reply_by: date
    contact: Contact | None = None
    cc: Sequence[str] = ()
    title: str = "关于督促办理逾期任务的二次督办通知"

    @property
    def addressee(self) -> str:
        """主送: the unit's principal."""
        return f"{self.unit}主要负责同志"

    def __post_init__(self) -> None:
        if not self.items:
            raise ValidationError(f"二次督办通知 {self.number}：没有未答复的督办事项")


def render_second_notice_html(doc: SecondNoticeDoc) -> str:
    """The second notice as a standalone HTML page."""
    return render_html("principal.html", doc, title=doc.title, signed_on=doc.issued_on,
                       masthead=f"{doc.office}督查文件", annexes=[])


def second_notice_pdf(doc: SecondNoticeDoc) -> bytes:
    """The second notice as PDF bytes."""
    return render_pdf(render_second_notice_html(doc))
