"""Outcome events: what a unit must hear of, written in the transaction of the action itself.

The engine never sends anything (it may not import ``notifications``). Each action whose outcome
a unit must learn records an ``EngineEvent`` (kind ``outcome:…``, unique key) in the caller's
transaction, so the event exists if and only if the action committed; ``notifications.outcomes``
consumes the unhandled ones (``handled_at`` empty) into in-app notes, mail and chat messages,
from the tick and from the delivery job every minute (docs/mail.md, "Outcomes").
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.instances import raise_event
from engine.models import ExtensionRequest, Instance, ItemRole, Plan, Review, WorkItem

APPROVED = "outcome:approved"
RETURNED = "outcome:returned"
EXTENSION = "outcome:extension"    # approved or rejected: the request says which
ASSIGNED = "outcome:assigned"      # a new obligation (lead) or part of one (supporting)
PLAN = "outcome:plan"              # a 形象进度 plan approved or returned
KINDS = (APPROVED, RETURNED, EXTENSION, ASSIGNED, PLAN)


def reviewed(s: Session, clock: Clock, inst: Instance, review: Review) -> None:
    """The lead unit hears that its evidence was approved or returned (with the reason)."""
    s.flush()
    lead = s.scalars(select(WorkItem).where(WorkItem.instance_id == inst.id,
                                            WorkItem.role == ItemRole.LEAD)).first()
    raise_event(s, clock, kind=APPROVED if review.approved else RETURNED,
                key=f"outcome:review:{review.id}", instance=inst, item=lead,
                payload={"review_id": review.id})


def extension_decided(s: Session, clock: Clock, inst: Instance, req: ExtensionRequest) -> None:
    """The requesting unit hears whether its extension was approved, and the date in force."""
    s.flush()
    item = s.get(WorkItem, req.work_item_id)
    raise_event(s, clock, kind=EXTENSION, key=f"outcome:extension:{req.id}", instance=inst,
                item=item, payload={"request_id": req.id, "status": req.status.value})


def assigned(s: Session, clock: Clock, inst: Instance) -> None:
    """Every unit with a new item in a just-started obligation hears of it (not the office)."""
    s.flush()
    for item in s.scalars(select(WorkItem).where(WorkItem.instance_id == inst.id,
                                                 WorkItem.role != ItemRole.SUPERVISOR)
                          .order_by(WorkItem.id)):
        raise_event(s, clock, kind=ASSIGNED, key=f"outcome:assigned:{item.id}", instance=inst,
                    item=item, payload={"role": item.role.value})


def plan_decided(s: Session, clock: Clock, inst: Instance, item: WorkItem, plan: Plan) -> None:
    """The lead unit hears that its 形象进度 plan was approved or returned (with the reason)."""
    s.flush()
    raise_event(s, clock, kind=PLAN, key=f"outcome:plan:{plan.id}", instance=inst, item=item,
                payload={"plan_id": plan.id, "status": plan.status.value})
