"""warden.sdk adapters driven by the real frameworks: the OpenAI Agents SDK (against the scripted
Responses server also used for Codex and Copilot) and a LangGraph graph with an interrupt."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from responses_server import Call, ResponsesServer  # noqa: E402

from warden.sdk import Guard  # noqa: E402

SECRET = "ghp_" + "R8bQ2vX9kL4mN7pT1wZ5yC3dF6gH0jK2sA8e"


@pytest.fixture
def project(workspace: Path, warden_home: Path) -> Path:
    (workspace / "notes.txt").write_text(f"before\ntoken = {SECRET}\nafter\n")
    return workspace


def test_openai_agents_tool_guardrails(project: Path, tmp_path: Path):
    agents = pytest.importorskip("agents")
    from openai import AsyncOpenAI

    from warden.sdk.openai_agents import guardrails

    from agent_session import session_root

    agents.set_tracing_disabled(True)
    root = session_root("sdk")  # not under /tmp: the policy treats temp roots as scratch space
    sentinel = root / "outside" / "sentinel.txt"
    sentinel.parent.mkdir()
    sentinel.write_text("must survive\n")
    guard = Guard(agent="oa-agent", cwd=str(project))
    check, redact = guardrails(guard, as_tool="Bash", to_input=lambda args: {"command": args["command"]})
    ran: list[str] = []

    @agents.function_tool(tool_input_guardrails=[check], tool_output_guardrails=[redact])
    def run_shell(command: str) -> str:
        """Run a shell command in the project."""
        import subprocess

        ran.append(command)
        return subprocess.run(command, shell=True, cwd=project, capture_output=True, text=True).stdout

    script = [Call("run_shell", {"command": f"rm -rf {sentinel.parent}"}), Call("run_shell", {"command": "ls"}),
              Call("run_shell", {"command": "cat notes.txt"})]
    with ResponsesServer(script) as server:
        model = agents.OpenAIResponsesModel(model="gpt-5", openai_client=AsyncOpenAI(base_url=server.url,
                                                                                    api_key="x"))
        agent = agents.Agent(name="ops", instructions="Use the shell.", tools=[run_shell], model=model)
        result = agents.Runner.run_sync(agent, "tidy up and show notes.txt", max_turns=8)
        outputs = server.tool_outputs()
        sent = server.all_request_text()
    assert sentinel.read_text() == "must survive\n" and ran == ["ls", "cat notes.txt"]
    assert "Warden" in outputs[0] and "notes.txt" in outputs[1]
    assert "before" in outputs[2] and "[REDACTED:" in outputs[2] and SECRET not in sent
    assert result.final_output == "All scripted steps are done."
    import shutil

    shutil.rmtree(root, ignore_errors=True)


def test_langgraph_interrupts_on_ask_and_resumes_with_the_answer(project: Path, warden_home: Path):
    pytest.importorskip("langgraph")
    from typing import TypedDict

    from langchain_core.tools import tool
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import Command

    from warden.sdk.langchain import guard_tool

    installed: list[str] = []

    @tool
    def install(package: str) -> str:
        """Install a package."""
        installed.append(package)
        return f"installed {package}; registry token {SECRET}"

    safe = guard_tool(Guard(agent="lg-agent", cwd=str(project), actor_id="carol"), install, as_tool="Bash",
                      to_input=lambda args: {"command": f"npm install {args['package']}"})

    class State(TypedDict):
        package: str
        result: str

    def act(state: State) -> dict:
        return {"result": safe.invoke({"package": state["package"]})}

    graph = StateGraph(State)
    graph.add_node("act", act)
    graph.add_edge(START, "act")
    graph.add_edge("act", END)
    app = graph.compile(checkpointer=InMemorySaver())

    config = {"configurable": {"thread_id": "t1"}}
    first = app.invoke({"package": "left-pad", "result": ""}, config)
    (pending,) = first["__interrupt__"]
    assert pending.value["warden"] == "approval" and "npm install left-pad" in json.dumps(pending.value)
    assert installed == []  # nothing ran while waiting for the human
    done = app.invoke(Command(resume=True), config)
    assert installed == ["left-pad"] and "[REDACTED:" in done["result"] and SECRET not in done["result"]

    refused = app.invoke({"package": "evil-pkg", "result": ""}, {"configurable": {"thread_id": "t2"}})
    assert refused["__interrupt__"]
    final = app.invoke(Command(resume=False), {"configurable": {"thread_id": "t2"}})
    assert "Warden asks for approval" in final["result"] and installed == ["left-pad"]

    # a deny never interrupts: the model gets the reason as the tool's result
    assert "Warden denied this" in guard_tool(Guard(agent="lg-agent", cwd=str(project)), install, as_tool="Bash",
                                              to_input=lambda args: {"command": "rm -rf ~"}).invoke({"package": "x"})
