"""The question log: what people asked and how it was answered, their feedback, and the gaps.

- ``schema``: the two tables (questions, feedback), SQLAlchemy 2 models; migrations in
  ``migrations/`` (Alembic), run by ``mingbai db upgrade`` and at start-up.
- ``store``: ``QuestionLog``, a bounded background writer and the operator's read queries.
- ``recording``: ``Recorded``, a :class:`~assistant.surface.Surface` that records every answer
  a face gives (masked question, entries, flags, latency, face, versions; never the answer text).
- ``gaps``: questions that went unanswered, unclear, down-voted or barely answered, grouped by
  meaning, with a draft entry for each group; and the log as evaluation rows.
"""
