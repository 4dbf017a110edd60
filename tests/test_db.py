"""engine/db.py: a savepoint inside a rolled-back transaction rolls back with it (SQLite)."""

from __future__ import annotations

from sqlalchemy import text

from engine.db import make_engine, session_factory


def test_savepoint_writes_roll_back_with_the_outer_transaction(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    s = session_factory(engine)()
    s.begin()
    s.execute(text("SELECT 1"))  # a read first: pysqlite has not begun a transaction yet
    with s.begin_nested():
        s.execute(text("INSERT INTO t VALUES (1)"))
    s.rollback()
    s.close()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
    engine.dispose()


def test_committed_savepoint_writes_are_kept(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    with session_factory(engine)() as s, s.begin():
        with s.begin_nested():
            s.execute(text("INSERT INTO t VALUES (1)"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
    engine.dispose()
