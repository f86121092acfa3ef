"""The driving side: everything that receives an agent's action and calls the gateway.

``model_gateway/`` the HTTP proxy for model traffic (`warden model-gateway`); ``agents/`` holds one module per agent (its wire payloads -> Action, a Verdict -> its wire
answer, plus its installer); ``daemon/`` the warm per-user daemon and its lean client, used by
every hook, `warden decide` and `warden exec`; ``hook`` the agent-neutral hook runner; ``mcp/`` the
MCP stdio proxy, HTTP gateway, pins and client-config wrapping.
Kept empty: a hook imports this package on every tool call.
"""
