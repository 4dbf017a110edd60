"""The Alembic migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import SAWarning

import engine.models  # noqa: F401
import notifications.models  # noqa: F401
from engine import migrate
from engine.db import Base, make_engine


def _diff(url: str) -> list[object]:
    eng = make_engine(url)
    migrate.upgrade(eng)
    migrate.upgrade(eng)  # a second run is a no-op
    with eng.connect() as conn, warnings.catch_warnings():
        # SQLite's reflection skips expression indexes (the inbox index), checked by name below
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based",
                                SAWarning)
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression",
                                UserWarning)
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = [d for d in compare_metadata(ctx, Base.metadata) if not _is_inbox_index(d)]
        inbox = [i for i in inspect(conn).get_indexes("work_items")
                 if i["name"] == "ix_work_items_inbox"]
        if eng.dialect.name == "postgresql":
            assert "COALESCE(due_date, '9999-12-31'::date)" in inbox[0]["expressions"]
        else:
            sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = "
                                    "'ix_work_items_inbox'")).scalar_one()
            assert "coalesce(due_date, '9999-12-31')" in sql and "'returned'" in sql
    eng.dispose()
    return diff


def _is_inbox_index(diff: object) -> bool:
    return isinstance(diff, tuple) and "ix_work_items_inbox" in repr(diff)


def test_sqlite_schema_matches_models(tmp_path):
    assert _diff(f"sqlite:///{tmp_path / 'm.db'}") == []


@pytest.mark.postgres
def test_postgresql_schema_matches_models(pg_url):
    name = f"duban_migrations_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = pg_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        assert _diff(url) == []
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


def test_the_lifecycle_migration_reads_the_levels_from_the_old_stamps(tmp_path):
    """0007: marked overdue -> urged; escalated since the mark -> noticed; escalated before a
    later mark (a new due date) -> urged; never marked (or marked, then cleared) -> none."""
    from alembic import command

    url = f"sqlite:///{tmp_path / 'old.db'}"
    eng = create_engine(url)  # plain SQLite: no foreign keys, so bare rows will do
    cfg = migrate.alembic_config(url)
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0006")
        stamps = {1: (None, None), 2: ("2018-08-31", None), 3: ("2018-08-31", "2018-09-07"),
                  4: ("2018-10-01", "2018-09-07"), 5: (None, "2018-09-07")}
        for item_id, (marked, escalated) in stamps.items():
            conn.execute(text(
                "INSERT INTO work_items (id, instance_id, task_name, unit_id, role, title, "
                "status, created_at, updated_at, overdue_marked_at, escalated_at) VALUES "
                "(:id, :id, 'submit', 'hefei', 'lead', 't', 'open', '2018-06-01', '2018-06-01', "
                ":m, :e)"), {"id": item_id, "m": marked, "e": escalated})
        command.upgrade(cfg, "head")
        levels = dict(conn.execute(text("SELECT id, escalation FROM work_items")).all())
    eng.dispose()
    assert levels == {1: "none", 2: "urged", 3: "noticed", 4: "urged", 5: "none"}


def test_0009_gives_existing_work_items_their_kind(tmp_path):
    """Rows from before 0009: a lead item is evidence, a supporting one a contribution, a
    supervisor's a review."""
    from alembic import command

    eng = create_engine(f"sqlite:///{tmp_path / 'k.db'}")  # no FK pragma: bare rows suffice
    cfg = migrate.alembic_config(str(eng.url))
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0006")
        for n, role in enumerate(("lead", "supporting", "supervisor"), start=1):
            conn.execute(text(
                "INSERT INTO work_items (id, instance_id, task_name, unit_id, role, title, "
                "status, created_at, updated_at) VALUES (:id, 1, :name, 'u', :role, 't', "
                "'open', '2018-05-30 00:00:00', '2018-05-30 00:00:00')"),
                {"id": n, "name": f"t{n}", "role": role})
    migrate.upgrade(eng)
    with eng.connect() as conn:
        kinds = dict(conn.execute(text("SELECT role, kind FROM work_items")).all())
    eng.dispose()
    assert kinds == {"lead": "evidence", "supporting": "contribution", "supervisor": "review"}
