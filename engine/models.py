"""The tables: SQLAlchemy 2.0 typed models. Behaviour lives in the service modules, not here."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    literal_column,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base, UTCDateTime


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class UnitKind(enum.StrEnum):
    DEPARTMENT = "department"
    CITY = "city"
    OTHER = "other"


class Role(enum.StrEnum):
    """A user's role; a work item's role is one of lead / supporting / supervisor."""

    LIAISON = "liaison"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class ItemRole(enum.StrEnum):
    LEAD = "lead"
    SUPPORTING = "supporting"
    SUPERVISOR = "supervisor"


class ItemKind(enum.StrEnum):
    """What a work item asks for: the BPMN's evidence / contribution / review, or the
    engine-managed 签收 (ack) and periodic 进展报送 (progress); ``plan`` is reserved for
    milestones."""

    ACK = "ack"
    PROGRESS = "progress"
    PLAN = "plan"
    EVIDENCE = "evidence"
    CONTRIBUTION = "contribution"
    REVIEW = "review"

    @property
    def label(self) -> str:
        """The kind in Chinese (the inbox's column)."""
        return _ITEM_KIND_LABELS[self]


_ITEM_KIND_LABELS = {ItemKind.ACK: "签收", ItemKind.PROGRESS: "进展报送", ItemKind.PLAN: "形象进度",
                     ItemKind.EVIDENCE: "办结报告", ItemKind.CONTRIBUTION: "配合报送",
                     ItemKind.REVIEW: "审核"}
# the kinds the BPMN process owns (instances.sync); the others the engine keeps beside it
# the kind of a BPMN human task's item, by its lane's role
KIND_OF_ROLE = {ItemRole.LEAD: ItemKind.EVIDENCE, ItemRole.SUPPORTING: ItemKind.CONTRIBUTION,
                ItemRole.SUPERVISOR: ItemKind.REVIEW}
BPMN_KINDS = (ItemKind.EVIDENCE, ItemKind.CONTRIBUTION, ItemKind.REVIEW)
CHECKIN_KINDS = (ItemKind.ACK, ItemKind.PROGRESS)


class ItemStatus(enum.StrEnum):
    """open / returned need the unit's action; submitted waits for review; closed is done."""

    OPEN = "open"
    RETURNED = "returned"
    SUBMITTED = "submitted"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        """The status in Chinese, as every page, message and command shows it."""
        return _ITEM_STATUS_LABELS[self]


_ITEM_STATUS_LABELS = {ItemStatus.OPEN: "待办理", ItemStatus.RETURNED: "已退回",
                       ItemStatus.SUBMITTED: "待审核", ItemStatus.CLOSED: "已办结",
                       ItemStatus.CANCELLED: "已撤销"}
ACTIONABLE = (ItemStatus.OPEN, ItemStatus.RETURNED)


class EscalationLevel(enum.StrEnum):
    """How far an item has climbed the ladder for its current due date (engine.lifecycle)."""

    NONE = "none"
    URGED = "urged"              # 催办, the day after the due date
    NOTICED = "noticed"          # 督办通知, N working days later
    PRINCIPAL = "principal"      # 二次督办: the reply deadline passed without a reply
    CRITICIZED = "criticized"    # 通报批评 in the next bulletin
    INTERVIEWED = "interviewed"  # 约谈, recorded by a supervisor

    @property
    def label(self) -> str:
        """The level in Chinese."""
        return _LEVEL_LABELS[self]


_LEVEL_LABELS = {EscalationLevel.NONE: "未升级", EscalationLevel.URGED: "已催办",
                 EscalationLevel.NOTICED: "已发督办通知",
                 EscalationLevel.PRINCIPAL: "已二次督办（主要负责同志）",
                 EscalationLevel.CRITICIZED: "已通报批评", EscalationLevel.INTERVIEWED: "已约谈"}


class InstanceStatus(enum.StrEnum):
    RUNNING = "running"
    CLOSED = "closed"
    ERROR = "error"


class ExtensionStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Unit(Base):
    """A unit (单位) with a stable id; its names over time are ``UnitName`` rows."""

    __tablename__ = "units"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[UnitKind] = mapped_column(_enum(UnitKind))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    email: Mapped[str | None] = mapped_column(String(200))
    names: Mapped[list[UnitName]] = relationship(
        back_populates="unit", order_by="UnitName.valid_from", cascade="all, delete-orphan")

    def name_on(self, day: date) -> str:
        """The name valid on ``day`` (the earliest name before any range starts)."""
        chosen = self.names[0].name if self.names else self.id
        for n in self.names:
            if (n.valid_from is None or n.valid_from <= day) and (
                    n.valid_to is None or day < n.valid_to):
                chosen = n.name
        return chosen

    def former_names(self, day: date) -> list[UnitName]:
        """Names that ended on or before ``day`` (曾用名), oldest first."""
        current = self.name_on(day)
        return [n for n in self.names if n.valid_to is not None and n.valid_to <= day
                and n.name != current]

    def future_names(self, day: date) -> list[UnitName]:
        """Names registered to take effect after ``day`` (将启用)."""
        return [n for n in self.names if n.valid_from is not None and n.valid_from > day]


class UnitName(Base):
    __tablename__ = "unit_names"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    short_name: Mapped[str | None] = mapped_column(String(40))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)  # exclusive
    unit: Mapped[Unit] = relationship(back_populates="names")


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(_enum(Role))
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"), index=True)
    email: Mapped[str | None] = mapped_column(String(200))
    api_token_hash: Mapped[str | None] = mapped_column(String(128), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # the username folded to lower case: "Hefei" and "hefei" cannot both exist
    username_key: Mapped[str] = mapped_column(String(80), unique=True,
                                              default=lambda ctx: _fold_username(ctx))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False,
                                                       server_default=false())
    unit: Mapped[Unit | None] = relationship()


def _fold_username(ctx: Any) -> str:
    """The default ``username_key``: the username in lower case (engine.accounts.username_key)."""
    return str(ctx.get_current_parameters()["username"]).strip().casefold()


class UserSession(Base):
    """A login session kept on the server: logout, a password change or deactivation end it."""

    __tablename__ = "user_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)  # absolute: never slides
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    address: Mapped[str | None] = mapped_column(String(64))


class LoginFailure(Base):
    """A failed login, shared by every web process (the throttle counts these rows)."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_user", "username_key", "at"),
                      Index("ix_login_failures_address", "address", "at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    username_key: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class UnitAlias(Base):
    """Another name a unit is known by in documents (省经济和信息化委): shared by all policies."""

    __tablename__ = "unit_aliases"
    alias: Mapped[str] = mapped_column(String(100), primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)


class UnitGroup(Base):
    """A group phrase of tables (各市人民政府) and the units it stands for, in order."""

    __tablename__ = "unit_groups"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    members: Mapped[list[str]] = mapped_column(JSON)  # unit ids


class PolicyStatus(enum.StrEnum):
    ACTIVE = "active"      # its cycles open and run
    ARCHIVED = "archived"  # no new cycles; running obligations go on and stay readable

    @property
    def label(self) -> str:
        return {"active": "执行中", "archived": "已归档"}[self.value]


class Policy(Base):
    __tablename__ = "policies"
    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    issuer: Mapped[str] = mapped_column(String(100))
    issued_on: Mapped[date] = mapped_column(Date)
    supervisor_unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    digest: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[PolicyStatus] = mapped_column(_enum(PolicyStatus), default=PolicyStatus.ACTIVE,
                                                 server_default="active")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    tasks: Mapped[list[PolicyTask]] = relationship(
        back_populates="policy", order_by="PolicyTask.number")


class ImportDraft(Base):
    """An uploaded table between preview and confirmation: the file, the options, the
    supervisor's mappings of unknown units and corrected cells. Nothing else is written
    before the import is confirmed."""

    __tablename__ = "import_drafts"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    mappings: Mapped[dict[str, str]] = mapped_column(JSON)  # name as written -> unit id/"new"
    corrections: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON)  # task number -> fields
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    policy_id: Mapped[str | None] = mapped_column(String(60))    # set once confirmed


class PolicyVersion(Base):
    """One version of a policy's table as imported: the tasks, their source and the diff."""

    __tablename__ = "policy_versions"
    __table_args__ = (UniqueConstraint("policy_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[str] = mapped_column(ForeignKey("policies.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    source_name: Mapped[str] = mapped_column(String(255))
    source_kind: Mapped[str] = mapped_column(String(20))
    digest: Mapped[str] = mapped_column(String(64))
    tasks: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    diff: Mapped[dict[str, Any]] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PolicyTask(Base):
    __tablename__ = "policy_tasks"
    __table_args__ = (UniqueConstraint("policy_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[str] = mapped_column(ForeignKey("policies.id"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    lead_unit_ids: Mapped[list[str]] = mapped_column(JSON)
    supporting_unit_ids: Mapped[list[str]] = mapped_column(JSON)
    deadline: Mapped[str] = mapped_column(String(100))
    rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    targets: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    process_id: Mapped[str] = mapped_column(String(100))
    supervisor_unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    label: Mapped[str | None] = mapped_column(String(40))      # numbering as written: （一）3
    path: Mapped[list[str]] = mapped_column(JSON, default=list)  # the headings above it
    notes: Mapped[list[str]] = mapped_column(JSON, default=list)  # vague phrases kept
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    policy: Mapped[Policy] = relationship(back_populates="tasks")
    cycles: Mapped[list[Cycle]] = relationship(back_populates="task", order_by="Cycle.opens_on")


class ProcessSpec(Base):
    """One BPMN process version: stored once, shared by all its instances."""

    __tablename__ = "process_specs"
    __table_args__ = (UniqueConstraint("process_id", "digest"),
                      UniqueConstraint("process_id", "version"))
    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    bpmn_xml: Mapped[str] = mapped_column(Text, deferred=True)
    spec_json: Mapped[str] = mapped_column(Text, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Cycle(Base):
    __tablename__ = "cycles"
    __table_args__ = (UniqueConstraint("task_id", "label"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("policy_tasks.id"))
    label: Mapped[str] = mapped_column(String(40))
    opens_on: Mapped[date] = mapped_column(Date, index=True)
    due_date: Mapped[date | None] = mapped_column(Date)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    task: Mapped[PolicyTask] = relationship(back_populates="cycles")


class Instance(Base):
    """One SpiffWorkflow workflow for (task, cycle, lead unit); ``version`` guards writers."""

    __tablename__ = "instances"
    __table_args__ = (UniqueConstraint("task_id", "cycle_id", "lead_unit_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("policy_tasks.id"), index=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), index=True)
    lead_unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    spec_id: Mapped[int] = mapped_column(ForeignKey("process_specs.id"))
    state: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[InstanceStatus] = mapped_column(_enum(InstanceStatus), index=True)
    due_date: Mapped[date | None] = mapped_column(Date)
    original_due_date: Mapped[date | None] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_on_time: Mapped[bool | None] = mapped_column(Boolean)
    last_error: Mapped[str | None] = mapped_column(Text)
    task: Mapped[PolicyTask] = relationship()
    cycle: Mapped[Cycle] = relationship()
    lead_unit: Mapped[Unit] = relationship()
    spec: Mapped[ProcessSpec] = relationship(lazy="joined")  # small: the texts are deferred
    timer: Mapped[Timer | None] = relationship(lazy="joined", cascade="all, delete-orphan")
    __mapper_args__ = {"version_id_col": version}


class WorkItem(Base):
    """One ready human task of an instance, in one unit's inbox."""

    __tablename__ = "work_items"
    __table_args__ = (
        Index("ix_work_items_sweep", "status", "due_date"),
        UniqueConstraint("instance_id", "task_name", "unit_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"), index=True)
    spiff_task_id: Mapped[str | None] = mapped_column(String(36))
    task_name: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    role: Mapped[ItemRole] = mapped_column(_enum(ItemRole))
    kind: Mapped[ItemKind] = mapped_column(_enum(ItemKind), default=ItemKind.EVIDENCE,
                                           server_default=ItemKind.EVIDENCE.value)
    title: Mapped[str] = mapped_column(String(200))
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[ItemStatus] = mapped_column(_enum(ItemStatus))
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    return_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # written only by engine.lifecycle (with a Transition row), like ``status``
    escalation: Mapped[EscalationLevel] = mapped_column(
        _enum(EscalationLevel), default=EscalationLevel.NONE, server_default="none")
    instance: Mapped[Instance] = relationship()
    unit: Mapped[Unit] = relationship()


# A unit's inbox: its actionable lead and supporting items, the earliest due first and the
# ones without a due date last. A partial index on exactly these expressions answers the inbox
# in a fraction of a millisecond whatever the table's size (the queries use the same objects).
INBOX_FILTER = text("work_items.status IN ('open', 'returned') AND work_items.role != 'supervisor'")
INBOX_DUE = func.coalesce(WorkItem.__table__.c.due_date, literal_column("'9999-12-31'"))
Index("ix_work_items_inbox", WorkItem.__table__.c.unit_id, INBOX_DUE, WorkItem.__table__.c.id,
      sqlite_where=INBOX_FILTER, postgresql_where=INBOX_FILTER)


class Attachment(Base):
    """A file stored by content hash under the data directory."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id"), index=True)
    progress_report_id: Mapped[int | None] = mapped_column(ForeignKey("progress_reports.id"),
                                                           index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Evidence(Base):
    """What a unit submitted (佐证材料): text, numbers against targets, attachments."""

    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(primary_key=True)
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id"), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    numbers: Mapped[dict[str, Any]] = mapped_column(JSON)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attachments: Mapped[list[Attachment]] = relationship()


class ProgressReport(Base):
    """A periodic 进展报送: what was done, numbers so far, problems to coordinate, next steps."""

    __tablename__ = "progress_reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id"), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_date: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
    numbers: Mapped[dict[str, Any]] = mapped_column(JSON)
    problems: Mapped[str | None] = mapped_column(Text)    # 需协调解决的问题
    next_steps: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attachments: Mapped[list[Attachment]] = relationship()


class PlanStatus(enum.StrEnum):
    """A 形象进度 plan version: waiting for the supervisor, returned, or approved."""

    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"

    @property
    def label(self) -> str:
        """The status in Chinese."""
        return {"submitted": "待审核", "returned": "已退回", "approved": "已批准"}[self.value]


class Plan(Base):
    """One version of a lead unit's 形象进度 plan (engine.plans): every version is kept."""

    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("work_item_id", "version", name="uq_plans_item_version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id"), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    version: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[PlanStatus] = mapped_column(_enum(PlanStatus))
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)     # the return reason / approval note
    milestones: Mapped[list[Milestone]] = relationship(order_by="Milestone.seq")


class Milestone(Base):
    """A dated milestone of a plan version, with planned amounts per target key; reached when
    a progress report of the lead unit says so."""

    __tablename__ = "milestones"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)
    amounts: Mapped[dict[str, Any]] = mapped_column(JSON)
    reached_on: Mapped[date | None] = mapped_column(Date)
    reached_report_id: Mapped[int | None] = mapped_column(ForeignKey("progress_reports.id"))


class Review(Base):
    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"), index=True)
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id"))
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ExtensionRequest(Base):
    """延期申请: the approved date replaces the due date; old and new stay here."""

    __tablename__ = "extension_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"), index=True)
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id"))
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    progress: Mapped[str | None] = mapped_column(Text)
    old_due_date: Mapped[date | None] = mapped_column(Date)
    requested_due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[ExtensionStatus] = mapped_column(_enum(ExtensionStatus), index=True)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_due_date: Mapped[date | None] = mapped_column(Date)
    decision_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Timer(Base):
    """The next BPMN timer of an instance, so a sweep loads only what is due."""

    __tablename__ = "timers"
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class EngineEvent(Base):
    """A fact the engine raised (a BPMN escalation, a deadline passed) for others to act on."""

    __tablename__ = "engine_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instances.id"), index=True)
    work_item_id: Mapped[int | None] = mapped_column(ForeignKey("work_items.id"))
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class Transition(Base):
    """One change of a work item's status or escalation level: from, to, when, who, why and the
    fact behind it (a message key, a document, an interview). Written in the same transaction as
    the change, by engine.lifecycle only; the "as of a day" readers replay these rows."""

    __tablename__ = "transitions"
    __table_args__ = (Index("ix_transitions_object", "object_type", "object_id", "at"),
                      Index("ix_transitions_to", "field", "to_state", "at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(String(40))   # "work_item"
    object_id: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(20))         # "status" | "escalation"
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    ref_type: Mapped[str | None] = mapped_column(String(40))
    ref_id: Mapped[str | None] = mapped_column(String(200))


class Interview(Base):
    """约谈: a supervisor's meeting with a unit's principal about an item past its 二次督办."""

    __tablename__ = "interviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    held_on: Mapped[date] = mapped_column(Date)
    interviewee: Mapped[str] = mapped_column(String(200))  # 被约谈人 (name, post)
    summary: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEvent(Base):
    """Append-only; each row's hash covers its content and the previous row's hash."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(60))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    __table_args__ = (Index("ix_audit_object", "object_type", "object_id"),)


class ClockState(Base):
    """The simulated clock's current time (one row), shared by every process."""

    __tablename__ = "clock_state"
    id: Mapped[int] = mapped_column(primary_key=True)
    now: Mapped[datetime] = mapped_column(UTCDateTime)
    # the DUBAN_CLOCK date it was created with (None: created before 0004, unknown)
    start_on: Mapped[date | None] = mapped_column(Date)
    # the last simulated day whose tick ran to its end (advance skips it)
    ticked_on: Mapped[date | None] = mapped_column(Date)


class Blob(Base):
    """Binary content kept in the database (document PDFs)."""

    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
