"""ui.mcp_server: the MCP face, driven by the official SDK's own client — in-process for the
tools, and over stdio against ``mingbai mcp`` as a client would launch it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from tests.conftest import MINGBAI, free_port, stop
from ui.mcp_server import create_mcp

pytestmark = pytest.mark.slow


def structured(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    data = result.structured_content
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def server(bot):  # type: ignore[no-untyped-def]
    return create_mcp(bot)


async def test_the_tools_have_typed_inputs(server) -> None:  # type: ignore[no-untyped-def]
    async with Client(server) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == {"ask", "what_if", "search_knowledge"}
    ask = tools["ask"].input_schema
    assert ask["required"] == ["question"] and ask["properties"]["question"]["maxLength"] == 2000
    profile = tools["what_if"].input_schema["$defs"]["ProfileInput"]["properties"]
    assert profile["sesame_score"]["anyOf"][0] == {"maximum": 950, "minimum": 350,
                                                   "type": "integer"}  # fmt: skip
    assert all(t.annotations and t.annotations.read_only_hint for t in tools.values())


async def test_ask_returns_the_answer_with_its_citations(server, bot) -> None:  # type: ignore[no-untyped-def]
    async with Client(server) as client:
        data = structured(await client.call_tool("ask", {"question": "在闲鱼买东西会开通借呗吗?"}))
    direct = bot.ask("在闲鱼买东西会开通借呗吗?")
    assert data["text"] == direct.text
    assert [c["doc_id"] for c in data["citations"]] == [c.doc_id for c in direct.citations]
    assert data["citations"][0]["index"] == 1 and data["citations"][0]["sources"]


async def test_ask_uses_the_history_for_a_follow_up(server) -> None:  # type: ignore[no-untyped-def]
    history = [{"role": "user", "content": "花呗逾期有什么后果"},
               {"role": "assistant", "content": "花呗逾期会产生逾期费用……"}]  # fmt: skip
    async with Client(server) as client:
        args = {"question": "那借呗呢", "history": history}
        data = structured(await client.call_tool("ask", args))
    assert data["citations"][0]["doc_id"] == "jiebei-overdue-consequences"


async def test_what_if_estimates_and_names_a_bad_field(server) -> None:  # type: ignore[no-untyped-def]
    async with Client(server) as client:
        data = structured(await client.call_tool("what_if", {
            "profile": {"sesame_score": 650}, "changes": {"sesame_score": 720}, "lang": "en"}))
        assert data["changed"] == {"sesame_score": [650, 720]}
        assert "educational estimate" in data["notice"]
        bad = await client.call_tool("what_if", {"profile": {"sesame_score": 2000}})
        assert bad.is_error and "sesame_score" in bad.content[0].text
        band = await client.call_tool("what_if", {"target_band": "platinum"})
        assert band.is_error and "field: target_band" in band.content[0].text


async def test_search_knowledge_lists_entries_best_first(server) -> None:  # type: ignore[no-untyped-def]
    async with Client(server) as client:
        data = structured(await client.call_tool("search_knowledge",
                                                 {"query": "借呗提前还款", "k": 3}))  # fmt: skip
        too_many = await client.call_tool("search_knowledge", {"query": "借呗", "k": 99})
    results = data["results"]
    assert len(results) == 3 and results[0]["index"] == 1
    assert results[0]["score"] >= results[1]["score"] >= results[2]["score"]
    assert too_many.is_error


async def test_mingbai_mcp_over_stdio(bot, session_home: Path, model_path: str) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "MINGBAI_HOME": str(session_home), "MINGBAI_EMBED_MODEL": model_path}
    params = StdioServerParameters(command=sys.executable, args=["-m", "ui.cli", "mcp"], env=env,
                                   cwd=str(Path(__file__).resolve().parents[1]))  # fmt: skip
    async with Client(params, read_timeout_seconds=120) as client:
        data = structured(await client.call_tool("ask", {"question": "借呗能提前还吗"}))
    assert data["route"] == "knowledge" and data["citations"]


async def test_mingbai_mcp_over_streamable_http(bot, session_home: Path, model_path: str) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    env = {**os.environ, "MINGBAI_HOME": str(session_home), "MINGBAI_EMBED_MODEL": model_path}
    log_path = session_home / "mcp-http.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen([MINGBAI, "mcp", "--transport", "http", "--port", str(port)],
                                env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:  # up once the port answers
            if proc.poll() is not None:
                pytest.fail(f"mingbai mcp exited early:\n{log_path.read_text()}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"mingbai mcp not listening in 120 s:\n{log_path.read_text()}")
            time.sleep(0.3)
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            data = structured(await client.call_tool("search_knowledge", {"query": "花呗分期"}))
        assert data["results"] and data["results"][0]["doc_id"].startswith("huabei-")
    finally:
        stop(proc)
