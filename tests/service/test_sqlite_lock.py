"""SQLite's writers queue on a lock file (service.sqlite_lock): the next one starts when
the previous one ends, a writer that waits too long fails like SQLite does, and readers
never queue."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, exc, text

from service.db import READ_ONLY, make_engine
from service.sqlite_lock import connection_factory, lock_path


def _engine(tmp_path: Path, timeout_s: float = 5.0) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'queue.db'}", timeout_seconds=timeout_s)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS log (who TEXT, at REAL)"))
    return engine


def _writer(engine: Engine, who: str, hold_s: float, events: list[tuple[str, str, float]]) -> None:
    with engine.connect() as conn:
        conn.begin()
        events.append((who, "began", time.monotonic()))
        conn.execute(text("INSERT INTO log VALUES (:who, :at)"), {"who": who, "at": time.time()})
        time.sleep(hold_s)
        conn.commit()
        events.append((who, "committed", time.monotonic()))


def test_writers_take_turns_and_the_next_begins_when_the_first_commits(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    events: list[tuple[str, str, float]] = []
    first = threading.Thread(target=_writer, args=(engine, "a", 0.3, events))
    first.start()
    while not events:
        time.sleep(0.001)
    second = threading.Thread(target=_writer, args=(engine, "b", 0.0, events))
    second.start()
    first.join(10)
    second.join(10)
    assert [(who, what) for who, what, _ in events] == [
        ("a", "began"),
        ("a", "committed"),
        ("b", "began"),
        ("b", "committed"),
    ]
    assert lock_path(tmp_path / "queue.db").exists()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT who FROM log ORDER BY at")).scalars().all() == ["a", "b"]
    engine.dispose()


def test_a_reader_does_not_queue_behind_a_writer(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    with engine.connect() as writer:
        writer.begin()
        writer.execute(text("INSERT INTO log VALUES ('w', 0)"))
        with engine.connect().execution_options(**READ_ONLY) as reader:
            started = time.monotonic()
            reader.begin()
            assert reader.execute(text("SELECT count(*) FROM log")).scalar() == 0
            reader.rollback()
            assert time.monotonic() - started < 2.0  # not the writer's 5 s timeout
        writer.commit()
    engine.dispose()


def test_a_writer_that_waits_too_long_fails_as_locked_and_the_lock_survives(
    tmp_path: Path,
) -> None:
    engine = _engine(tmp_path, timeout_s=0.3)
    with engine.connect() as holder:
        holder.begin()
        holder.execute(text("INSERT INTO log VALUES ('holder', 0)"))
        with engine.connect() as late:
            with pytest.raises(exc.OperationalError, match="database is locked"):
                late.begin()
                late.execute(text("INSERT INTO log VALUES ('late', 0)"))
            late.rollback()
        holder.commit()
    # Nothing half-written, and the queue works again afterwards.
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO log VALUES ('after', 0)"))
    with engine.connect() as conn:
        assert sorted(conn.execute(text("SELECT who FROM log")).scalars()) == ["after", "holder"]
    engine.dispose()


def test_rollback_and_close_release_the_turn(tmp_path: Path) -> None:
    engine = _engine(tmp_path, timeout_s=1.0)
    with engine.connect() as first:
        first.begin()
        first.execute(text("INSERT INTO log VALUES ('rolled back', 0)"))
        first.rollback()
        with engine.begin() as second:  # would wait 1 s and fail if the turn were kept
            second.execute(text("INSERT INTO log VALUES ('second', 0)"))
    factory = connection_factory(tmp_path / "queue.db", 1.0)
    raw = sqlite3.connect(tmp_path / "queue.db", factory=factory, isolation_level=None)
    raw.execute("BEGIN IMMEDIATE")
    raw.close()  # closing a connection in the middle of a transaction gives its turn up
    with engine.begin() as third:
        third.execute(text("INSERT INTO log VALUES ('third', 0)"))
    with engine.connect() as conn:
        assert sorted(conn.execute(text("SELECT who FROM log")).scalars()) == ["second", "third"]
    engine.dispose()


def test_a_lock_file_that_cannot_be_opened_leaves_sqlite_in_charge(tmp_path: Path) -> None:
    database = tmp_path / "queue.db"
    factory = connection_factory(database, 1.0)
    factory._lock_file = str(tmp_path / "missing-directory" / "x.lock")  # type: ignore[attr-defined]
    conn = sqlite3.connect(database, factory=factory, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.commit()
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)
    conn.close()


def test_a_writer_waits_for_its_turn_in_the_queue_not_for_sqlite(tmp_path: Path) -> None:
    """The turn is the lock file's: held there (SQLite itself free), a writer waits."""
    import fcntl
    import os

    engine = _engine(tmp_path)
    events: list[tuple[str, str, float]] = []
    fd = os.open(lock_path(tmp_path / "queue.db"), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        writer = threading.Thread(target=_writer, args=(engine, "queued", 0.0, events))
        writer.start()
        time.sleep(0.3)
        assert events == []
        fcntl.flock(fd, fcntl.LOCK_UN)
        writer.join(10)
    finally:
        os.close(fd)
    assert [what for _, what, _ in events] == ["began", "committed"]
    engine.dispose()
