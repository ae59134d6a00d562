"""Fills a stopped daemon's store with copies of its one finished execution, for the executions list at size.

Usage: copy_executions.py PILOT_HOME COUNT. Each copy gets its own UUIDv7-shaped id and a start time one second
before the previous one, and a status cycling through success, failed and cancelled, so the list, its filters
and its pages have real rows to read. Steps are copied too, so opening any row shows a real execution.
"""
import sqlite3
import sys
import uuid

home, count = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(f"{home}/pilot.db")
columns = [row[1] for row in db.execute("PRAGMA table_info(executions)")]
step_columns = [row[1] for row in db.execute("PRAGMA table_info(execution_steps)")]
(source_id, started_at) = db.execute("SELECT id, started_at FROM executions ORDER BY started_at LIMIT 1").fetchone()
source = dict(zip(columns, db.execute("SELECT * FROM executions WHERE id = ?", (source_id,)).fetchone()))
steps = [dict(zip(step_columns, row)) for row in db.execute("SELECT * FROM execution_steps WHERE execution_id = ?", (source_id,))]


def uuid7_at(micros, n):
    millis = micros // 1000
    return str(uuid.UUID(int=(millis << 80) | (0x7 << 76) | ((n & 0xFFF) << 64) | (0b10 << 62) | n))


statuses = ["success", "failed", "cancelled"]
rows, step_rows = [], []
for n in range(count):
    at = started_at - (n + 1) * 1_000_000
    copy = dict(source, id=uuid7_at(at, n), started_at=at, completed_at=at + 2_000, status=statuses[n % 3])
    rows.append(tuple(copy[c] for c in columns))
    for step in steps:
        step_copy = dict(step, id=f"{copy['id']}:{step['step_id']}", execution_id=copy["id"])
        step_rows.append(tuple(step_copy[c] for c in step_columns))
with db:
    db.executemany(f"INSERT INTO executions ({','.join(columns)}) VALUES ({','.join('?' * len(columns))})", rows)
    db.executemany(
        f"INSERT INTO execution_steps ({','.join(step_columns)}) VALUES ({','.join('?' * len(step_columns))})", step_rows
    )
print(db.execute("SELECT count(*) FROM executions").fetchone()[0])
