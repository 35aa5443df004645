"""The one place where Mingbai's parts are created and wired together.

(``load_answering_rules`` and ``AnsweringRules`` live in :mod:`assistant.decision`; they are
re-exported here for the callers that wire components.)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assistant.calibration import BUNDLED_MODEL
from assistant.composer import Composer, GroundedComposer
from assistant.decision import AnsweringRules, DecisionPolicy, load_answering_rules
from assistant.dialogue import DialogueRules
from assistant.router import Router
from assistant.scam import ScamDetector
from assistant.settings import DEFAULT_MODEL, Settings, apply_offline_env
from knowledge.entry import Entry
from knowledge.errors import IndexNotReadyError, ModelNotReadyError
from knowledge.lexicon import load_lexicon
from knowledge.loader import EntryError, load_knowledge
from retrieval.backends import make_embedder
from retrieval.embeddings import Embedder, model_identity
from retrieval.indexer import IndexReport, index_lock, known_current, plan, update_index
from retrieval.lexical import warm_up as warm_lexical
from retrieval.search import KnowledgeSearch
from retrieval.store import ChunkStore, StoreLocation

__all__ = ["AnsweringRules", "Components", "build_components", "build_index", "check_index",
           "ensure_model", "load_answering_rules", "open_store"]
log = logging.getLogger("mingbai")


@dataclass
class Components:
    settings: Settings
    entries: dict[str, Entry]
    load_errors: list[EntryError]
    search: KnowledgeSearch
    router: Router
    scam: ScamDetector
    composer: Composer
    rules: AnsweringRules
    policy: DecisionPolicy
    dialogue: DialogueRules
    index_report: IndexReport | None = None


def load_model_in_background(embedder: Embedder) -> None:
    """Load the embedding model in a thread; the first question waits for it (the embedder's
    load is locked), so no answer is ever given without it.

    Not a daemon: a process that exits at once must let the native model load finish (a daemon
    thread killed inside ONNX Runtime aborts the whole process)."""
    if not getattr(embedder, "loaded", False):
        threading.Thread(target=_warm_up, args=(embedder,), name="warm-up").start()


def _warm_up(embedder: Embedder) -> None:
    try:
        embedder.embed_query("warm up")
    except Exception as exc:  # reported again, with its message, on the first question
        log.warning("embedding model failed to load in the background: %s", exc)


def ensure_model(settings: Settings, progress: bool = False) -> str:
    """Build the bundled embedding model into the data dir if it is missing; return its path."""
    path = settings.model_path()
    if settings.embed_model == DEFAULT_MODEL:
        from retrieval.model_build import build_model

        build_model(Path(path), progress=(lambda msg: log.info(msg)) if progress else None)
    return path


def open_store(settings: Settings, embedder: Embedder) -> ChunkStore:
    location = StoreLocation(settings.index_dir / "chroma", settings.chroma_url)
    return ChunkStore(location, embedder)


def build_index(
    settings: Settings,
    *,
    knowledge_dir: Path | None = None,
    progress: bool = False,
    on_batch: Callable[[int, int], None] | None = None,
    wait_seconds: float = 30.0,
) -> tuple[IndexReport, list[EntryError]]:
    """Build or update the index for the configured model (the `mingbai index` command).

    The lock is taken before the store is opened, so a second run never touches the store
    while the first one writes.
    """
    apply_offline_env()
    loaded = load_knowledge(knowledge_dir)
    model_path = ensure_model(settings, progress)
    with index_lock(settings.index_dir / "index.lock", wait_seconds):
        store = open_store(settings, make_embedder(model_path, settings.embed_backend))
        report = update_index(
            store, loaded.entries, lock_path=None, progress=progress, on_batch=on_batch
        )
    return report, loaded.errors


def check_index(store: ChunkStore, entries: list[Entry]) -> None:
    """Refuse to serve from a missing index or one built with another model; warn if stale."""
    if known_current(store, entries):
        return  # the last complete index run left exactly these entries (Chroma not opened)
    if not store.exists() or store.count() == 0:
        others = store.other_model_collections()
        if others:
            raise IndexNotReadyError(
                f"the index was built with another embedding model ({', '.join(others)}), not "
                f"the configured one ({store.embedder.fingerprint}); run `mingbai index` to "
                "re-index with it"
            )
        raise IndexNotReadyError("no search index found; run `mingbai index` (or `make run`)")
    added, changed, deleted, _ = plan(store, entries)
    if added or changed or deleted:
        log.warning(
            "the index is out of date (%d added, %d changed, %d deleted entries); "
            "run `mingbai index` to update it",
            len(added), len(changed), len(deleted),
        )


def build_components(
    settings: Settings,
    *,
    knowledge_dir: Path | None = None,
    build_missing: bool = True,
    composer: Composer | None = None,
    embedder: Embedder | None = None,
    warm: bool = True,
    load_model: bool = True,
    require_calibration: bool = True,
) -> Components:
    """Wire everything; with ``build_missing`` the model and the index are built when absent.
    With ``warm``, the model starts loading in the background (unless ``load_model=False``: a
    server starts it once its page is built, see :func:`load_model_in_background`) and the
    store's vectors and the lexical index are read now.
    ``require_calibration=False`` (for ``mingbai calibrate`` only) lets a model without
    calibrated thresholds start, with the bundled model's as placeholders."""
    apply_offline_env()
    rules = load_answering_rules()  # the model-independent part is the same for every model
    loaded = load_knowledge(knowledge_dir)
    for err in loaded.errors:
        log.warning("skipped knowledge entry: %s", err)
    model_path: str | None = getattr(embedder, "model_path", None)
    if embedder is None:
        model_path = ensure_model(settings) if build_missing else settings.model_path()
        local = Path(model_path)
        if not build_missing and local.is_absolute() and not (local / "modules.json").is_file():
            raise ModelNotReadyError(
                f"the embedding model is missing at {model_path}; run `mingbai models build` "
                "(or `make run`)"
            )
        embedder = make_embedder(
            model_path, settings.embed_backend, query_max_tokens=rules.query_max_tokens
        )
    # the thresholds calibrated for this model (a fake embedder in tests: the bundled model's);
    # none: refused here, with the command that calibrates it
    identity = model_identity(model_path) if model_path else BUNDLED_MODEL
    if require_calibration:
        rules = load_answering_rules(model=identity, home=settings.home,
                                     model_path=model_path or "")  # fmt: skip
    if warm:
        # numpy's first import is not safe from two threads at once (the warm-up thread and the
        # store's chromadb import here): a half-initialised module breaks the second. Import it
        # here, first.
        import numpy  # noqa: F401

        # Loading the model takes most of the start-up; do it in the background while the store
        # opens and the index is checked.
        if load_model:
            load_model_in_background(embedder)
    store = open_store(settings, embedder)
    report = None
    if build_missing:
        report = update_index(store, loaded.entries, lock_path=settings.index_dir / "index.lock")
    else:
        check_index(store, loaded.entries)
    search = KnowledgeSearch(store, loaded.entries, rules.search, cache_dir=settings.index_dir)
    if warm:
        threading.Thread(target=warm_lexical, name="warm-up-lexical").start()
        store.vectors()  # the in-memory copy every query scans (~60 ms for 1,500 chunks)
    if composer is None:
        composer = GroundedComposer()
        if settings.llm:
            from assistant.llm import LLMComposer, chat_model_from_spec

            composer = LLMComposer(chat_model_from_spec(settings.llm))
    entries = {e.id: e for e in loaded.entries}
    router = Router.load()
    return Components(
        settings=settings,
        entries=entries,
        load_errors=loaded.errors,
        search=search,
        router=router,
        scam=ScamDetector.load(),
        composer=composer,
        rules=rules,
        policy=DecisionPolicy(rules, entries, load_lexicon(), router.credit_question),
        dialogue=DialogueRules.load(),
        index_report=report,
    )
