"""The ``mingbai`` command line (a face, like the page and the HTTP API).

Exit codes: 0 success, 1 failure, 2 usage error; errors are one line on stderr.
Commands owned by other modules register themselves: ``assistant.whatif.cli`` (what-if) and
``assistant.evaluation.cli`` (eval).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from assistant.bot import Assistant
from assistant.settings import apply_offline_env, get_settings

app = typer.Typer(
    name="mingbai",
    help="明白 Mingbai: sourced answers to consumer-credit questions (Huabei, Jiebei, Xianyu).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="Manage the embedding model.", no_args_is_help=True)
app.add_typer(models_app, name="models")
db_app = typer.Typer(help="The question log's database (MINGBAI_DB_URL).", no_args_is_help=True)
app.add_typer(db_app, name="db")
log_app = typer.Typer(help="The question log.", no_args_is_help=True)
app.add_typer(log_app, name="log")


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a one-line error and return the Exit to raise."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def _assistant(build_missing: bool = True, load_model: bool = True) -> Assistant:
    from assistant.bot import default_assistant
    from assistant.errors import MingbaiError

    try:
        return default_assistant(build_missing=build_missing, load_model=load_model)
    except MingbaiError as exc:
        raise fail(str(exc)) from exc


def _recorded(face: str, build_missing: bool = True) -> Any:
    """The assistant, its answers recorded in the question log as coming from ``face``
    (``MINGBAI_LOG_QUESTIONS=0``: not recorded)."""
    from assistant.errors import MingbaiError
    from assistant.questionlog.recording import Recorded
    from assistant.questionlog.store import open_question_log

    bot = _assistant(build_missing)
    try:
        log = open_question_log(get_settings())
    except MingbaiError as exc:
        raise fail(str(exc)) from exc
    return Recorded(bot, log, face)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in Chinese or English.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the whole answer as JSON.")
    ] = False,
) -> None:
    """Answer one question and exit."""
    from assistant.serialize import answer_json

    bot = _recorded("cli")
    try:
        answer = bot.ask(question)
    except ValueError as exc:
        raise fail(str(exc), 2) from exc
    finally:
        if bot.log is not None:
            bot.log.close()  # writes the row before the process ends
    if as_json:
        typer.echo(json.dumps(answer_json(answer), ensure_ascii=False, indent=2))
    else:
        typer.echo(answer.text)


@app.command()
def chat() -> None:
    """Chat in the terminal (the conversation is used for follow-ups). Ctrl-D or 'exit' quits."""
    bot = _recorded("cli")
    history: list[dict[str, str]] = []
    typer.echo("明白 Mingbai — 问我花呗、借呗、芝麻信用、闲鱼和防骗问题。输入 exit 退出。")
    while True:
        try:
            question = input("\n你/you> ")
        except (EOFError, KeyboardInterrupt):
            typer.echo("")
            return
        if question.strip().lower() in {"exit", "quit", "退出"}:
            return
        if not question.strip():
            continue
        answer = bot.ask(question, history=history)
        typer.echo(f"\n明白> {answer.text}")
        history += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer.text},
        ]


@app.command()
def index(
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail if any knowledge entry is invalid.")
    ] = False,
    knowledge_dir: Annotated[
        Path | None, typer.Option("--knowledge", help="Folder of entries (default: bundled).")
    ] = None,
    wait: Annotated[
        float, typer.Option(min=0, help="Seconds to wait for another index run to finish.")
    ] = 30.0,
) -> None:
    """Build or update the search index (incremental: only changed entries are re-embedded)."""
    from assistant.errors import MingbaiError
    from assistant.factory import build_index

    def report_batch(done: int, total: int) -> None:
        if not sys.stderr.isatty():  # a terminal has the progress bar instead
            print(f"indexed {done}/{total} chunks", file=sys.stderr, flush=True)

    try:
        report, errors = build_index(
            get_settings(),
            knowledge_dir=knowledge_dir,
            progress=True,
            on_batch=report_batch,
            wait_seconds=wait,
        )
    except MingbaiError as exc:
        raise fail(str(exc)) from exc
    for err in errors:
        typer.secho(f"invalid entry: {err}", err=True, fg=typer.colors.YELLOW)
    typer.echo(f"index: {report.summary()}")
    if strict and errors:
        raise fail(
            f"{len(errors)} invalid knowledge entries (see above); fix them or drop --strict"
        )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 7860,
) -> None:
    """Serve the web page at / and the OpenAI-compatible JSON API under /v1."""
    from ui.server import serve as run_server

    # the model loads once the page is built (ui.server.serve): the page is up seconds sooner
    run_server(_assistant(build_missing=False, load_model=False), host=host, port=port)


@app.command()
def mcp(
    transport: Annotated[
        str, typer.Option(help="stdio (a client launches this command) or http (streamable HTTP).")
    ] = "stdio",
    host: Annotated[str, typer.Option(help="Interface for --transport http.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port for --transport http.")] = 8765,
) -> None:
    """Serve ask, what_if and search_knowledge as MCP tools (official SDK; HTTP path /mcp)."""
    if transport not in ("stdio", "http"):
        raise fail(f"--transport must be stdio or http, not {transport!r}", 2)
    from ui.mcp_server import create_mcp

    server = create_mcp(_recorded("mcp", build_missing=False))  # stdout: the protocol's own
    if transport == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host=host, port=port)


@app.command()
def calibrate(
    eval_file: Annotated[Path, typer.Option("--eval", help="The evaluation file to derive the "
                                            "thresholds from.")] = Path("knowledge/eval/faq.jsonl"),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print, do not store.")] = False,
) -> None:  # fmt: skip
    """Derive the answer thresholds for the configured embedding model (MINGBAI_EMBED_MODEL)."""
    from assistant.calibrate import run_calibration
    from assistant.errors import MingbaiError

    try:
        calibration, path = run_calibration(get_settings(), eval_file, write=not dry_run)
    except MingbaiError as exc:
        raise fail(str(exc)) from exc
    t = calibration.thresholds
    typer.echo(f"model {calibration.model}: abstain below {t.abstain_below}, with an unknown "
               f"word below {t.unknown_word_below}, off-domain below {t.out_of_domain_below}, "
               f"scam evidence above {t.scam_evidence_above}")  # fmt: skip
    typer.echo(f"on {calibration.measured.get('rows')} rows: {calibration.measured}")
    typer.echo(f"stored: {path}" if path else "not stored (--dry-run)")


@models_app.command("build")
def models_build(
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if up to date.")] = False,
) -> None:
    """Build the offline multilingual-e5-small model into the data dir (idempotent)."""
    from assistant.settings import DEFAULT_MODEL
    from retrieval.model_build import ModelBuildError, build_model

    settings = get_settings()
    if settings.embed_model != DEFAULT_MODEL:
        typer.echo(f"MINGBAI_EMBED_MODEL={settings.embed_model}: nothing to build")
        return
    try:
        path = build_model(Path(settings.model_path()), force=force, progress=typer.echo)
    except ModelBuildError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"model ready: {path}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the question log's tables to the newest schema (Alembic)."""
    from assistant.errors import MingbaiError
    from assistant.questionlog.store import make_engine, upgrade

    url = get_settings().database_url
    try:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
    except MingbaiError as exc:
        raise fail(str(exc)) from exc
    except Exception as exc:  # the database refused: say which, without the password
        raise fail(f"{url.split('@')[-1]}: {type(exc).__name__}: {exc}".splitlines()[0]) from exc
    typer.echo(f"question log schema up to date: {url.split('@')[-1]}")


def _since(text: str | None, default_days: int) -> datetime:
    if text is None:
        return datetime.now(UTC) - timedelta(days=default_days)
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        raise fail(f"--since must be a date such as 2026-11-01, not {text!r}", 2) from None


@app.command()
def gaps(
    since: Annotated[str | None, typer.Option(help="From this date (default: 30 days).")] = None,
    out: Annotated[Path | None, typer.Option(help="Write report.md and draft-N.md here.")] = None,
    distance: Annotated[float, typer.Option(min=0.01, max=1.0, help="Widest cosine distance "
                                            "inside a group.")] = 0.09,
) -> None:
    """Questions the knowledge base missed (abstained, clarified, down-voted, barely answered),
    grouped by meaning, largest first, each with a draft entry."""
    from assistant.questionlog.gaps import gaps_since, report
    from assistant.questionlog.store import QuestionLog

    start = _since(since, 30)
    qlog = QuestionLog(get_settings().database_url)
    try:
        empty = not qlog.counts()["questions"]
        found = [] if empty else gaps_since(_assistant(build_missing=False), qlog, start, distance)
    finally:
        qlog.close()
    text = report(found, start.date().isoformat())
    if out is None:
        typer.echo(text)
        return
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(text, encoding="utf-8")
    for n, gap in enumerate(found, 1):
        (out / f"draft-{n}.md").write_text(gap.draft(n), encoding="utf-8")
    typer.echo(f"{len(found)} groups from {sum(g.count for g in found)} questions: "
               f"{out / 'report.md'}")


@log_app.command("export")
def log_export(
    out: Annotated[Path, typer.Option(help="The evaluation file to write (JSONL).")],
    since: Annotated[str | None, typer.Option(help="From this date (default: 90 days).")] = None,
) -> None:
    """Write the log as evaluation rows (question + the entry it was answered from, tagged
    to-review) that `mingbai eval --eval FILE` reads."""
    from assistant.questionlog.gaps import export_rows
    from assistant.questionlog.store import QuestionLog

    qlog = QuestionLog(get_settings().database_url)
    try:
        rows = export_rows(qlog.questions(_since(since, 90)))
    finally:
        qlog.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    typer.echo(f"{len(rows)} rows: {out}")


def _register_commands() -> None:
    """Commands contributed by other modules (each adds itself to ``app``)."""
    from assistant.evaluation import cli as eval_cli
    from assistant.whatif import cli as whatif_cli

    whatif_cli.register(app)
    eval_cli.register(app)


_register_commands()


def main() -> None:
    apply_offline_env()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app(standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
