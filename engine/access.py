"""Who may see and do what: the one place the web, the API, the CLI and the engine ask.

The rules (README, "Who sees what"):

- A supervisor sees everything and reviews supervisor items and extension requests, except the
  evidence of the own unit: nobody approves their own unit's work.
- An administrator sees everything and manages accounts, units, the clock and the outbox; an
  administrator never acts on work items.
- A liaison acts on and sees the work items of the own unit only (never a review item). On an
  obligation the own unit leads, it sees the whole record: the lead's evidence, the supporting
  units' contributions, reviews and return reasons, extension requests and the history. On an
  obligation the own unit only supports, it sees the task, the lead unit and the due date and
  its own contribution: not the lead's evidence, the supervisor's reasons, extension requests or
  other units' contributions.
- A liaison reads the notices addressed to the own unit and the bulletins to everyone.
- An item of another unit answers "not found" to a liaison (its existence is not revealed).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from engine.errors import NotFoundError, PermissionDeniedError, StateError
from engine.models import (
    ACTIONABLE,
    Attachment,
    Instance,
    ItemKind,
    ItemRole,
    ItemStatus,
    Role,
    User,
    WorkItem,
)


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user's id, name, role and unit, or the system."""

    user_id: int | None
    username: str
    role: Role
    unit_id: str | None

    @classmethod
    def system(cls) -> Actor:
        return cls(None, "system", Role.ADMIN, None)

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.id, user.username, user.role, user.unit_id)

    @property
    def is_system(self) -> bool:
        return self.user_id is None and self.username == "system"


class Action(enum.StrEnum):
    """What an actor may do on a work item."""

    SUBMIT = "submit"                # submit evidence or a contribution (and save a draft)
    REQUEST_EXTENSION = "extend"     # 延期申请 (lead items with a due date)
    REVIEW = "review"                # approve or return (supervisor items)
    ACKNOWLEDGE = "ack"              # 签收 (ack items)
    REPORT = "report"                # 进展报送 (progress items)
    PROPOSE = "propose"              # 形象进度: propose (or resubmit) a plan (plan items)
    DECIDE_PLAN = "decide_plan"      # approve or return a submitted plan (supervisors)


# the one action of an engine-managed item (engine.checkins); BPMN items take the others
_CHECKIN_ACTION = {ItemKind.ACK: Action.ACKNOWLEDGE, ItemKind.PROGRESS: Action.REPORT,
                   ItemKind.PLAN: Action.PROPOSE}


class View(enum.StrEnum):
    """What parts of an obligation's record an actor may read."""

    EVIDENCE = "evidence"            # the lead's evidence and its attachments
    CONTRIBUTIONS = "contributions"  # every supporting unit's contribution
    REVIEWS = "reviews"              # reviews and return reasons
    EXTENSIONS = "extensions"        # extension requests and decisions
    HISTORY = "history"              # the audit trail of the whole obligation


_ALL_VIEWS = frozenset(View)


def can_see_item(actor: Actor, item: WorkItem) -> bool:
    """Whether the actor may open this work item at all."""
    if actor.role is not Role.LIAISON:
        return True
    return item.unit_id == actor.unit_id and item.role is not ItemRole.SUPERVISOR


def check_item(actor: Actor, item: WorkItem | None, item_id: int) -> WorkItem:
    """The item if the actor may see it; NotFoundError otherwise (never revealing it exists)."""
    if item is None or not can_see_item(actor, item):
        raise NotFoundError(f"待办事项 #{item_id} 不存在")
    return item


def leads(actor: Actor, inst: Instance) -> bool:
    """Whether the actor's unit leads this obligation."""
    return actor.unit_id is not None and actor.unit_id == inst.lead_unit_id


def views(actor: Actor, inst: Instance) -> frozenset[View]:
    """The parts of an obligation's record the actor may read."""
    if actor.role is not Role.LIAISON or leads(actor, inst):
        return _ALL_VIEWS
    return frozenset()


def item_actions(actor: Actor, item: WorkItem, *, extension_pending: bool = False
                 ) -> frozenset[Action]:
    """The actions the actor may take on the item now (the pages offer exactly these)."""
    if item.kind is ItemKind.PLAN and item.status is ItemStatus.SUBMITTED:
        return frozenset({Action.DECIDE_PLAN}) if may_decide_plan(actor, item) else frozenset()
    if item.status not in ACTIONABLE:
        return frozenset()
    if item.role is ItemRole.SUPERVISOR:
        ok = actor.role is Role.SUPERVISOR and not leads(actor, item.instance)
        return frozenset({Action.REVIEW}) if ok else frozenset()
    if actor.role is not Role.LIAISON or actor.unit_id != item.unit_id:
        return frozenset()
    if item.kind in _CHECKIN_ACTION:
        return frozenset({_CHECKIN_ACTION[item.kind]})
    found = {Action.SUBMIT}
    if item.role is ItemRole.LEAD and item.due_date is not None and not extension_pending:
        found.add(Action.REQUEST_EXTENSION)
    return frozenset(found)


def require(actor: Actor, item: WorkItem, action: Action) -> None:
    """Raise unless the actor may take ``action`` on the item now (the reason in Chinese)."""
    if item.status not in ACTIONABLE:
        raise StateError(f"事项 #{item.id} 当前状态为“{item.status.label}”，不能再办理")
    if action is Action.REVIEW:
        if item.role is not ItemRole.SUPERVISOR:
            raise PermissionDeniedError("此操作不适用于该事项")
        if actor.role is not Role.SUPERVISOR:
            raise PermissionDeniedError("只有督查人员可以审核")
        if leads(actor, item.instance):
            raise PermissionDeniedError("不能审核本单位牵头的事项（须由其他督查人员审核）")
        return
    if item.role is ItemRole.SUPERVISOR or (
            action is Action.REQUEST_EXTENSION and item.role is not ItemRole.LEAD) or \
            not _fits(item, action):
        raise PermissionDeniedError("此操作不适用于该事项")
    if actor.role is not Role.LIAISON or actor.unit_id != item.unit_id:
        raise PermissionDeniedError("只有本单位联络员可以办理本单位事项")


def _fits(item: WorkItem, action: Action) -> bool:
    """A 签收 / progress item takes its one action; the BPMN's items never take those."""
    own = _CHECKIN_ACTION.get(item.kind)
    return action is own if own is not None else action not in _CHECKIN_ACTION.values()


def may_decide_plan(actor: Actor, item: WorkItem) -> bool:
    """Supervisors decide a submitted plan, never their own unit's."""
    return actor.role is Role.SUPERVISOR and actor.unit_id != item.unit_id and \
        not leads(actor, item.instance)


def may_decide_extensions(actor: Actor, lead_unit_id: str | None = None) -> bool:
    """Supervisors decide extension requests, never one of their own unit."""
    return actor.role is Role.SUPERVISOR and (lead_unit_id is None or
                                              lead_unit_id != actor.unit_id)


def may_see_instance(actor: Actor, inst: Instance, unit_items: set[str]) -> bool:
    """An obligation's process view: everyone but liaisons of units that take no part."""
    return actor.role is not Role.LIAISON or leads(actor, inst) or actor.unit_id in unit_items


def may_download(actor: Actor, att: Attachment, lead_unit_id: str | None) -> bool:
    """An attachment: its own unit, the lead unit of the obligation it belongs to, and
    supervisors and administrators."""
    if actor.role is not Role.LIAISON:
        return True
    return actor.unit_id is not None and actor.unit_id in (att.unit_id, lead_unit_id)


def may_read_document(actor: Actor, addressed_to: str | None) -> bool:
    """Notices are read by the unit addressed and the office; bulletins (no addressee) by all."""
    return actor.role is not Role.LIAISON or addressed_to is None or \
        addressed_to == actor.unit_id


def readable_addressee(actor: Actor) -> str | None:
    """The one addressee whose notices a liaison reads besides bulletins; None: all documents."""
    return actor.unit_id or "" if actor.role is Role.LIAISON else None


def may_urge(actor: Actor) -> bool:
    """A manual 催办 is the supervisors'."""
    return actor.role is Role.SUPERVISOR


def require_role(actor: Actor, *roles: Role, what: str) -> None:
    """Raise PermissionDeniedError unless the actor has one of ``roles``."""
    if actor.role not in roles:
        raise PermissionDeniedError(f"无权{what}")
