"""The question log under load: 20 clients for 60 s with recording off, on SQLite and on
PostgreSQL (when one is reachable), every answered request's row counted afterwards; then a
server SIGKILLed mid-load, and the rows it lost measured.

    python -m benchmarks.load_log [--seconds 60] [--pg URL]

Each run gets a fresh data-dir database (or a fresh PostgreSQL schema), so counts are exact.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from benchmarks import load

PG_DEFAULT = "postgresql+psycopg://mingbai_ci:mingbai_ci_pw@127.0.0.1:5432/mingbai_test"


def _present(url: str, ids: list[str]) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        stored = {r[0] for r in conn.execute(text("select id from questions"))}
    engine.dispose()
    return sum(1 for i in ids if i in stored)


def _pg_schema(base: str) -> tuple[str, str] | None:
    try:
        engine = create_engine(base, connect_args={"connect_timeout": 3})
        schema = f"load_{uuid.uuid4().hex[:8]}"
        with engine.begin() as conn:
            conn.execute(text(f"create schema {schema}"))
        engine.dispose()
    except Exception:
        return None
    return schema, base + ("&" if "?" in base else "?") + f"options=-csearch_path%3D{schema}"


def one(name: str, seconds: float, db_url: str | None, kill_after: float | None = None
        ) -> dict[str, Any]:
    env = {"MINGBAI_LOG_QUESTIONS": "0"} if db_url is None else {
        "MINGBAI_LOG_QUESTIONS": "1", "MINGBAI_DB_URL": db_url}
    ids: list[str] = []
    out = load.run(20, seconds, env=env, ids=ids, kill_after=kill_after)
    result = {"run": name, "requests": out["requests"], "errors": out["errors"],
              "requests_per_s": out["requests_per_s"], "p50_ms": out["p50_ms"],
              "p95_ms": out["p95_ms"], "answered": len(ids),
              "page_ready_s": out["page_ready_after_start_s"],
              "writer_at_end": out.get("question_log")}
    if db_url is not None:
        time.sleep(1.0)  # a terminated server flushes on its way out
        present = _present(db_url, ids)
        result["rows_present"] = present
        result["rows_missing"] = len(ids) - present
        if kill_after is not None:
            rate = len(ids) / kill_after if kill_after else 0
            result["lost_seconds_of_traffic"] = round((len(ids) - present) / rate, 2) if rate else 0
    return result


def run(seconds: float = 60.0, pg: str = PG_DEFAULT) -> dict[str, Any]:
    results = [one("recording off", seconds, None)]
    with tempfile.TemporaryDirectory() as tmp:
        results.append(one("sqlite", seconds, f"sqlite:///{Path(tmp) / 'load.db'}"))
        results.append(one("sqlite, SIGKILL after 20 s", 30, f"sqlite:///{Path(tmp) / 'k.db'}",
                           kill_after=20))
    made = _pg_schema(pg)
    if made is not None:
        results.append(one("postgresql", seconds, made[1]))
        killed = _pg_schema(pg)
        if killed is not None:
            results.append(one("postgresql, SIGKILL after 20 s", 30, killed[1], kill_after=20))
    else:
        results.append({"run": "postgresql", "skipped": f"no server at {pg.split('@')[-1]}"})
    off = results[0]["p95_ms"] or 0
    for r in results[1:]:
        if r.get("p95_ms") and off and "SIGKILL" not in r["run"]:
            r["p95_vs_off"] = round(r["p95_ms"] / off, 3)
    return {"machine": os.cpu_count(), "runs": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--pg", default=os.environ.get("MINGBAI_TEST_PG_URL") or PG_DEFAULT)
    args = parser.parse_args()
    print(json.dumps(run(args.seconds, args.pg), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
