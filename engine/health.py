"""Before a long-running command starts: is the database there and current, do the files load?

``check_ready`` is what ``duban tick``, ``duban scheduler`` and ``duban serve`` run first, so a
bad setting is one line and a refusal to start, never a traceback in a log after the fact.
``database_problem`` turns a SQLAlchemy error into that one line for every other command.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from engine.errors import DubanError
from engine.runtime import Runtime

UNDEFINED = ("42P01", "42703")  # PostgreSQL: undefined table, undefined column
SQLITE_UNDEFINED = ("no such table", "no such column")


class DatabaseError(DubanError):
    """The database cannot be reached or its schema is missing or out of date."""


def _safe_url(url: object) -> str:
    """The URL without its password ("" when unknown)."""
    from sqlalchemy.engine import make_url

    if url is None:
        return ""
    try:
        return make_url(str(url)).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a URL that does not parse is shown as is
        return str(url)


def _first_line(exc: BaseException) -> str:
    """The driver's own message, first line only (psycopg adds hints on further lines)."""
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


def database_problem(exc: SQLAlchemyError, url: object = None) -> DatabaseError:
    """One line for a database error: no schema (yet), or the database cannot be used."""
    text = _first_line(exc)
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    missing = code in UNDEFINED or any(m in text.lower() for m in SQLITE_UNDEFINED)
    if missing:
        return DatabaseError(f"数据库 {_safe_url(url)} 尚未初始化或版本过旧（{text}）："
                             f"请先运行 duban init")
    return DatabaseError(f"无法使用数据库 {_safe_url(url)}：{text}")


def check_database(rt: Runtime) -> None:
    """Reachable, and the schema at the newest migration (``duban init`` makes it so)."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from engine.migrate import MIGRATIONS

    engine: Engine = rt.sessions.kw["bind"]
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        raise database_problem(exc, engine.url) from None
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    if current is None:
        raise DatabaseError(f"数据库 {_safe_url(engine.url)} 尚未初始化：请先运行 duban init")
    if current != head:
        raise DatabaseError(f"数据库 {_safe_url(engine.url)} 的结构版本为 {current}，"
                            f"本程序需要 {head}：请运行 duban init 升级")


def check_ready(rt: Runtime) -> None:
    """The database, the policy and every BPMN file, and the clock: each problem one line."""
    check_database(rt)
    rt.processes()  # PolicyError / BpmnError name the file and the place
    rt.clock.now()  # a simulated clock that was never initialised says so
