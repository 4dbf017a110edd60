"""Configuration from the environment, parsed once (the contract in shared/DESIGN.md).

``Config.from_env()`` reads every ``DUBAN_*`` variable, checks it and fails with one
``ConfigError`` line naming the variable and what is wrong; nothing else reads the environment.
The README's configuration table lists them all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from engine.deadlines import parse_deadline
from engine.errors import ConfigError, DeadlinePhraseError

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS_DIR = ROOT / "workflows"
DEFAULT_POLICY = WORKFLOWS_DIR / "anhui-2018-zjtx.yaml"
DEFAULT_UPLOAD_MAX = 20 * 1024 * 1024
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
BULLETIN_KINDS = ("monthly", "yearly")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


@dataclass(frozen=True)
class SchedulerKnobs:
    """The scheduler's settings as plain values (notifications.tick builds its rules from them)."""

    reminder_days: tuple[int, ...] = (7, 1)
    reminder_working_days: bool = False
    escalate_after: int = 5
    bulletins: frozenset[str] = frozenset(BULLETIN_KINDS)
    bulletin_working_day: int = 1
    contact: tuple[str, str] | None = None
    ack_working_days: int = 2
    progress_rule: str = "每季度末月25日前"

    @classmethod
    def parse(cls, env: Mapping[str, str]) -> SchedulerKnobs:
        """DUBAN_REMINDER_DAYS ("7,1"), DUBAN_REMINDER_WORKING_DAYS, DUBAN_ESCALATE_AFTER,
        DUBAN_BULLETINS ("monthly,yearly"), DUBAN_BULLETIN_WORKING_DAY, DUBAN_CONTACT,
        DUBAN_ACK_WORKING_DAYS (签收 within N working days, 2), DUBAN_PROGRESS_RULE (the
        progress-report rule of a policy that states none, "每季度末月25日前")."""
        raw = env.get("DUBAN_REMINDER_DAYS", "7,1")
        try:
            days = tuple(int(x) for x in raw.split(",") if x.strip())
        except ValueError:
            raise ConfigError("DUBAN_REMINDER_DAYS", raw, "应为逗号分隔的天数，如 7,1") from None
        if any(d < 0 for d in days):
            raise ConfigError("DUBAN_REMINDER_DAYS", raw, "提醒天数不能为负")
        kinds = frozenset(k.strip() for k in env.get("DUBAN_BULLETINS", "monthly,yearly")
                          .split(",") if k.strip())
        unknown = sorted(kinds - set(BULLETIN_KINDS))
        if unknown:
            raise ConfigError("DUBAN_BULLETINS", ",".join(sorted(kinds)),
                              f"未知的通报类型 {unknown[0]}（可选 monthly、yearly）")
        name, _, phone = env.get("DUBAN_CONTACT", "").partition(",")
        return cls(reminder_days=days,
                   reminder_working_days=_flag(env, "DUBAN_REMINDER_WORKING_DAYS", False),
                   escalate_after=_int(env, "DUBAN_ESCALATE_AFTER", 5, minimum=0),
                   bulletins=kinds,
                   bulletin_working_day=_int(env, "DUBAN_BULLETIN_WORKING_DAY", 1, minimum=1),
                   contact=(name.strip(), phone.strip()) if name.strip() and phone.strip()
                   else None,
                   ack_working_days=_int(env, "DUBAN_ACK_WORKING_DAYS", 2, minimum=1),
                   progress_rule=_progress_rule(env.get("DUBAN_PROGRESS_RULE")))


def _progress_rule(raw: str | None) -> str:
    """A recurring deadline phrase (每季度末月25日前, 每月23日前)."""
    phrase = (raw or "").strip() or "每季度末月25日前"
    try:
        kind = parse_deadline(phrase).kind
    except DeadlinePhraseError:
        kind = ""
    if kind not in ("yearly", "quarterly", "monthly", "half_yearly"):
        raise ConfigError("DUBAN_PROGRESS_RULE", phrase,
                          "应为周期性时限，如 每季度末月25日前、每月23日前")
    return phrase


@dataclass(frozen=True)
class Config:
    """Where Duban keeps its data and how it talks to the world."""

    data_dir: Path = Path("var")
    database_url: str = ""
    smtp_url: str | None = None
    clock: str = "system"
    clock_explicit: bool = False           # DUBAN_CLOCK was set (not just the default)
    policy_file: Path = DEFAULT_POLICY
    mail_from: str = "duban@localhost"
    upload_max_bytes: int = DEFAULT_UPLOAD_MAX
    cookie_secure: bool = True
    secret_key: str | None = None
    simulation_database_url: str | None = None
    log_level: str = "INFO"
    log_format: str = "text"
    web_workers: int = 2
    web_threads: int = 4
    trusted_proxies: int = 0
    mail_retry_days: int = 30
    scheduler: SchedulerKnobs = SchedulerKnobs()
    env: Mapping[str, str] = field(default_factory=dict)    # the DUBAN_* variables as read
    extra: dict[str, str] = field(default_factory=dict)     # overrides of env (tests)

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def simulated_start(self) -> date | None:
        """The start date of a simulated clock configured as an ISO date, else None."""
        return None if self.clock in ("", "system") else date.fromisoformat(self.clock)

    def knobs(self) -> SchedulerKnobs:
        """The scheduler settings with ``extra`` applied (checked again: tests change extra)."""
        return SchedulerKnobs.parse({**self.env, **self.extra}) if self.extra else self.scheduler

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        """Read and check every ``DUBAN_*`` variable; defaults give a SQLite file under ./var."""
        env = {k: v for k, v in (os.environ if env is None else env).items()
               if k.startswith("DUBAN_")}
        data_dir = Path(env.get("DUBAN_DATA_DIR") or "var")
        url = env.get("DUBAN_DATABASE_URL") or f"sqlite:///{(data_dir / 'duban.db').resolve()}"
        return cls(
            data_dir=data_dir, database_url=_database_url("DUBAN_DATABASE_URL", url),
            smtp_url=_smtp_url(env.get("DUBAN_SMTP_URL") or None),
            clock=_clock(env.get("DUBAN_CLOCK", "system")),
            clock_explicit="DUBAN_CLOCK" in env,
            policy_file=Path(env.get("DUBAN_POLICY_FILE") or DEFAULT_POLICY),
            mail_from=_mail_from(env.get("DUBAN_MAIL_FROM") or "duban@localhost"),
            upload_max_bytes=_int(env, "DUBAN_UPLOAD_MAX_BYTES", DEFAULT_UPLOAD_MAX, minimum=1),
            cookie_secure=_flag(env, "DUBAN_COOKIE_SECURE", True),
            secret_key=env.get("DUBAN_SECRET_KEY") or None,
            simulation_database_url=_optional_url(env, "DUBAN_SIMULATION_DATABASE_URL"),
            log_level=_choice(env, "DUBAN_LOG_LEVEL", "INFO", LOG_LEVELS, upper=True),
            log_format=_choice(env, "DUBAN_LOG_FORMAT", "text", ("text", "json")),
            web_workers=_int(env, "DUBAN_WEB_WORKERS", _default_workers(), minimum=1),
            web_threads=_int(env, "DUBAN_WEB_THREADS", 4, minimum=1),
            trusted_proxies=_int(env, "DUBAN_TRUSTED_PROXIES", 0, minimum=0),
            mail_retry_days=_int(env, "DUBAN_MAIL_RETRY_DAYS", 30, minimum=1),
            scheduler=SchedulerKnobs.parse(env), env=env)


def _default_workers() -> int:
    """Two web processes per core, at most 8 (each has its threads)."""
    return max(2, min(8, 2 * (os.cpu_count() or 1)))


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.lstrip("-").isdigit():
        raise ConfigError(name, raw, "应为整数")
    value = int(raw)
    if value < minimum:
        raise ConfigError(name, raw, f"不能小于 {minimum}")
    return value


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    if raw.strip().lower() in _TRUE:
        return True
    if raw.strip().lower() in _FALSE:
        return False
    raise ConfigError(name, raw, "应为 1 或 0")


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...], *,
            upper: bool = False) -> str:
    raw = (env.get(name) or default).strip()
    value = raw.upper() if upper else raw.lower()
    if value not in choices:
        raise ConfigError(name, raw, f"可选值：{'、'.join(choices)}")
    return value


def _clock(raw: str) -> str:
    value = raw.strip() or "system"
    if value != "system":
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ConfigError("DUBAN_CLOCK", raw, "应为 system 或 ISO 日期（如 2018-06-01）") \
                from None
    return value


def _database_url(name: str, url: str) -> str:
    """A SQLAlchemy URL of a supported database."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(name, url, "不是有效的数据库地址（如 sqlite:///var/duban.db 或 "
                          "postgresql+psycopg://user@host/db）") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(name, url, "只支持 sqlite 和 postgresql")
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "psycopg":
        raise ConfigError(name, url, "PostgreSQL 请使用 postgresql+psycopg:// 驱动")
    return url


def _optional_url(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name) or None
    return None if raw is None else _database_url(name, raw)


def _smtp_url(url: str | None) -> str | None:
    if url is None:
        return None
    parts = urlsplit(url)
    try:
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        port_ok = False
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname or not port_ok:
        raise ConfigError("DUBAN_SMTP_URL", url, "应为 smtp://主机:端口 或 smtps://用户:密码@主机:端口")
    return url


def _mail_from(value: str) -> str:
    from email.utils import parseaddr

    _, addr = parseaddr(value)
    if "@" not in addr or any(c in value for c in "\r\n"):
        raise ConfigError("DUBAN_MAIL_FROM", value, "不是有效的邮件地址")
    return value
