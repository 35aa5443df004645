"""The MCP face: Mingbai's answers, what-if estimates and knowledge search as tools for agents.

``mingbai mcp`` serves it over stdio (for a desktop client that launches it) or streamable HTTP
(``--transport http``, on 127.0.0.1 unless told otherwise), with the official ``mcp`` SDK. Like
every face it takes an :class:`assistant.surface.Surface` and returns the JSON of
``assistant.serialize``, so a tool result carries the same fields, citations included, as the
HTTP API's ``/v1/ask`` and ``/v1/what-if``.

>>> server = create_mcp(assistant)  # doctest: +SKIP
>>> server.run("stdio")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field, create_model

from assistant.errors import MingbaiError
from assistant.serialize import answer_json, citations_json, simulation_json
from assistant.surface import Surface
from assistant.whatif.profile import FIELD_SPECS, FieldSpec

MAX_QUESTION_CHARS = 2000
INSTRUCTIONS = (
    "Mingbai answers consumer-credit questions about Alipay's Huabei (花呗) and Jiebei (借呗) from "
    "a curated, sourced knowledge base, in the question's language (Chinese or English). It is "
    "independent of Ant Group and cannot see anyone's account. Quote its citations; when it says "
    "it does not know, or asks which question was meant (clarifying), pass that on. what_if "
    "gives an educational estimate from explainable rules, not Ant Group's model."
)
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)


class Turn(BaseModel):
    """One earlier message of the conversation (for follow-ups such as "那借呗呢?")."""

    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant"]
    content: Annotated[str, Field(max_length=MAX_QUESTION_CHARS * 4)]


def _field(spec: FieldSpec) -> Any:
    kind: Any = spec.kind
    about = f"{spec.label_en} ({spec.label_zh}); {spec.describe_range()}"
    if kind is bool:
        return (bool | None, Field(None, description=about))
    return (kind | None, Field(None, ge=spec.minimum, le=spec.maximum, description=about))


def _fields_model(name: str) -> Any:
    """A model of every what-if field, typed from the profile's field registry, all optional
    (missing ones take the common case, and the answer says which were assumed)."""
    fields = {field: _field(spec) for field, spec in FIELD_SPECS.items()}
    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields)


ProfileInput = _fields_model("ProfileInput")
ChangesInput = _fields_model("ChangesInput")


def _given(model: BaseModel | None) -> dict[str, Any]:
    return {} if model is None else model.model_dump(exclude_unset=True)


def create_mcp(assistant: Surface) -> MCPServer:
    """An MCP server whose tools answer through ``assistant``."""
    server: MCPServer = MCPServer("mingbai", title="明白 Mingbai", instructions=INSTRUCTIONS)

    @server.tool(annotations=READ_ONLY)
    def ask(
        question: Annotated[str, Field(min_length=1, max_length=MAX_QUESTION_CHARS,
                                       description="The user's message, Chinese or English.")],
        history: Annotated[list[Turn] | None, Field(
            description="The conversation so far, oldest first (optional).")] = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Answer a consumer-credit question (Huabei, Jiebei, Sesame Credit, scams) from the
        knowledge base: the answer text, whether it abstained or asks back (clarifying), a scam
        warning if any, the numbered citations with their sources, and suggested next questions.
        """
        turns = [t.model_dump() for t in history or []]
        try:
            return answer_json(assistant.ask(question, turns))
        except (MingbaiError, ValueError) as exc:
            raise ToolError(str(exc)) from exc

    @server.tool(annotations=READ_ONLY)
    def what_if(
        profile: Annotated[ProfileInput | None, Field(  # type: ignore[valid-type]
            description="What is known of the person; missing fields take the common case.")
        ] = None,
        changes: Annotated[ChangesInput | None, Field(  # type: ignore[valid-type]
            description="The change to estimate, e.g. {\"sesame_score\": 720}.")] = None,
        target_band: Annotated[str | None, Field(
            description="A band to plan for (default: the next one up).")] = None,
        lang: Literal["zh", "en"] = "zh",
    ) -> dict[str, Any]:  # fmt: skip
        """Estimate a Jiebei/Huabei limit band with the explainable rules scorer, before and
        after a change, with the reasons and a plan to reach the next band. An educational
        estimate, not Ant Group's model."""
        try:
            sim = assistant.what_if(_given(profile), _given(changes), target_band)
        except MingbaiError as exc:
            where = f" (field: {exc.field})" if exc.field else ""
            raise ToolError(f"{exc}{where}") from exc
        return simulation_json(sim, lang)

    @server.tool(annotations=READ_ONLY)
    def search_knowledge(
        query: Annotated[str, Field(min_length=1, max_length=MAX_QUESTION_CHARS,
                                    description="What to look for, Chinese or English.")],
        k: Annotated[int, Field(ge=1, le=20, description="How many entries.")] = 5,
    ) -> dict[str, Any]:  # fmt: skip
        """The knowledge entries closest to ``query``, best first: id, title, verdict snippet,
        score, sources and review date."""
        return {"results": citations_json(assistant.find_entries(query, k=k))}

    return server
