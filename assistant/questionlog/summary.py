"""The operator's figures, from the log's rows and the entries (pure functions, so tested alone).

>>> votes = [{"answer_id": "a", "vote": -1, "at": _day(1)}, {"answer_id": "b", "vote": 1,
...          "at": _day(1)}]
>>> rows = [{"id": "a", "top_entry": "e1"}, {"id": "b", "top_entry": "e1"}]
>>> down_share_by_entry(rows, votes)
[{'entry': 'e1', 'votes': 2, 'down': 1, 'down_share': 0.5}]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from knowledge.entry import Entry

REVIEW_AFTER_DAYS = 180  # an entry not reviewed for this long is due


def _day(d: int) -> datetime:
    return datetime(2026, 12, d, tzinfo=UTC)


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    return datetime.fromisoformat(str(value)).date()


def feedback_by_day(votes: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per day: 👍, 👎 (the latest vote on each answer that day)."""
    latest: dict[tuple[date, str], int] = {}
    for v in votes:
        latest[(_date(v["at"]), str(v["answer_id"]))] = int(v["vote"])
    days: dict[date, Counter[str]] = {}
    for (day, _), vote in latest.items():
        days.setdefault(day, Counter())["up" if vote > 0 else "down"] += 1
    return [{"day": d.isoformat(), "up": c["up"], "down": c["down"]}
            for d, c in sorted(days.items())]


def down_share_by_entry(rows: Iterable[Mapping[str, Any]],
                        votes: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per entry answered from: votes, 👎 and the share of 👎, worst first."""
    entry_of = {str(r["id"]): r.get("top_entry") for r in rows}
    latest: dict[str, int] = {}
    for v in votes:
        latest[str(v["answer_id"])] = int(v["vote"])
    counts: dict[str, Counter[str]] = {}
    for answer_id, vote in latest.items():
        entry = entry_of.get(answer_id) or "(no entry: abstained)"
        counts.setdefault(entry, Counter())["down" if vote < 0 else "up"] += 1
    out = [{"entry": e, "votes": c["up"] + c["down"], "down": c["down"],
            "down_share": round(c["down"] / (c["up"] + c["down"]), 3)} for e, c in counts.items()]
    return sorted(out, key=lambda r: (-r["down_share"], -r["votes"], r["entry"]))


def usage(rows: Iterable[Mapping[str, Any]], entries: Sequence[Entry],
          n: int = 10) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """The ``n`` most and least used entries (answers given from them); unused entries count 0."""
    used = Counter(str(r["top_entry"]) for r in rows
                   if r.get("top_entry") and not r.get("abstained"))
    every = sorted(((e.id, used.get(e.id, 0)) for e in entries), key=lambda t: (-t[1], t[0]))
    least = sorted(every, key=lambda t: (t[1], t[0]))[:n]
    return every[:n], least


def past_review(entries: Sequence[Entry], today: date | None = None,
                after_days: int = REVIEW_AFTER_DAYS) -> list[tuple[str, str]]:
    """Entries whose ``reviewed`` date is more than ``after_days`` ago, oldest first."""
    today = today or datetime.now(UTC).date()
    cutoff = today - timedelta(days=after_days)
    due = [(e.id, e.reviewed.isoformat()) for e in entries if e.reviewed < cutoff]
    return sorted(due, key=lambda t: (t[1], t[0]))
