"""Policy engine: precedence, quantifiers, layering, locks, examples, load errors."""

from __future__ import annotations

import pytest

from warden.core.action import action_from_payload
from warden.core.decision import Decision
from warden.core.facts import Access, Analysis, CommandInfo, Fact, PathRef
from warden.core.policy.compiled import evaluate
from warden.core.policy.load import LayerSource, PolicyLoadError, compile_policy

WS = "/home/dev/project"
HOME = "/home/dev"


def policy(*layers: tuple[str, str], check_examples: bool = True):
    return compile_policy([LayerSource(layer, f"{layer}.yaml", text) for layer, text in layers],
                          check_examples=check_examples)


def bash(argv: list[str], paths=(), facts=(), hosts=()) -> CommandInfo:
    return CommandInfo(program=argv[0], argv=tuple(argv), raw=" ".join(argv), paths=list(paths),
                       facts=list(facts), hosts=list(hosts))


def decide(p, commands=(), tool="Bash", paths=(), hosts=(), facts=(), **payload):
    action = action_from_payload({"tool_name": tool, "tool_input": payload.pop("tool_input", {"command": "x"}),
                                  "cwd": WS, **payload})
    analysis = Analysis(commands=list(commands), paths=list(paths), hosts=list(hosts), facts=list(facts))
    return evaluate(p, action, analysis, home=HOME)


BASE = """
default: ask
rules:
  - {id: allow-ls, effect: allow, reason: listing is safe, program: [ls, cat]}
  - {id: deny-rm-root, effect: deny, reason: deleting / is catastrophic, program: [rm], path: ["/"], access: [delete]}
  - {id: ask-net, effect: ask, reason: network access, host: ["*"]}
"""


def test_strictest_wins_across_subjects():
    p = policy(("project", BASE))
    ok = decide(p, [bash(["ls"])])
    assert ok.decision is Decision.ALLOW
    bad = decide(p, [bash(["ls"]), bash(["rm", "-rf", "/"], paths=[PathRef("/", Access.DELETE, False)])])
    assert bad.decision is Decision.DENY
    assert bad.rules[0].id == "deny-rm-root"
    assert "catastrophic" in bad.reason


def test_default_applies_per_command_and_says_so():
    p = policy(("project", BASE))
    v = decide(p, [bash(["ls"]), bash(["frobnicate"])])
    assert v.decision is Decision.ASK
    assert "frobnicate" in v.reason and "default" in v.reason


def test_opaque_command_never_matches_program_rules():
    p = policy(("project", BASE))
    opaque = CommandInfo(program="", argv=(), raw="$x", opaque=True, facts=[Fact("exec.opaque")])
    assert decide(p, [opaque]).decision is Decision.ASK


def test_allow_rules_quantify_over_every_path():
    p = policy(("project", """
default: deny
rules:
  - {id: allow-tmp-delete, effect: allow, reason: temp files, program: [rm], path: ["/tmp/**"], access: [delete]}
"""))
    only_tmp = bash(["rm", "/tmp/a"], paths=[PathRef("/tmp/a", Access.DELETE, False)])
    mixed = bash(["rm", "/tmp/a", "/etc/x"], paths=[PathRef("/tmp/a", Access.DELETE, False),
                                                     PathRef("/etc/x", Access.DELETE, False)])
    assert decide(p, [only_tmp]).decision is Decision.ALLOW
    assert decide(p, [mixed]).decision is Decision.DENY


def test_in_workspace_semantics():
    p = policy(("project", """
default: ask
rules:
  - {id: allow-ws-write, effect: allow, reason: workspace edits, tool: [Write], in_workspace: true}
  - {id: deny-outside-delete, effect: deny, reason: outside delete, program: [rm], in_workspace: false, access: [delete]}
"""))
    inside = PathRef(f"{WS}/a.py", Access.WRITE, True)
    outside = PathRef("/etc/passwd", Access.WRITE, False)
    assert decide(p, tool="Write", paths=[inside], tool_input={"file_path": f"{WS}/a.py"}).decision is Decision.ALLOW
    assert decide(p, tool="Write", paths=[outside], tool_input={"file_path": "/etc/passwd"}).decision is Decision.ASK
    rm = bash(["rm", "x", "/srv/y"], paths=[PathRef(f"{WS}/x", Access.DELETE, True),
                                         PathRef("/srv/y", Access.DELETE, False)])
    assert decide(p, [rm]).decision is Decision.DENY


def test_path_glob_anchors():
    p = policy(("project", """
default: allow
rules:
  - {id: home-ssh, effect: deny, reason: ssh keys, path: ["~/.ssh/"]}
  - {id: env-any-depth, effect: deny, reason: env files, path: [".env*"]}
  - {id: ws-secrets, effect: ask, reason: ws secrets dir, path: ["config/secrets/**"]}
"""))
    def read(path):
        return decide(p, tool="Read", paths=[PathRef(path, Access.READ, path.startswith(WS))],
                      tool_input={"file_path": path})
    assert read(f"{HOME}/.ssh/id_rsa").rules[0].id == "home-ssh"
    assert read(f"{HOME}/.ssh").decision is Decision.DENY
    assert read(f"{WS}/deep/dir/.env.local").rules[0].id == "env-any-depth"
    assert read(f"{WS}/config/secrets/db.yaml").decision is Decision.ASK
    assert read("/other/config/secrets/db.yaml").decision is Decision.ALLOW
    assert read(f"{WS}/src/main.py").decision is Decision.ALLOW


def test_command_token_patterns():
    p = policy(("project", """
default: allow
rules:
  - {id: force, effect: deny, reason: force push, command: ["git push ** --force", "git push ** -f"]}
  - {id: one-token, effect: ask, reason: any single remote, command: ["git fetch *"]}
"""))
    assert decide(p, [bash(["git", "push", "origin", "main", "--force"])]).decision is Decision.DENY
    assert decide(p, [bash(["git", "push", "--force"])]).decision is Decision.DENY
    assert decide(p, [bash(["git", "push", "origin", "main"])]).decision is Decision.ALLOW
    assert decide(p, [bash(["git", "fetch", "origin"])]).decision is Decision.ASK
    assert decide(p, [bash(["git", "fetch"])]).decision is Decision.ALLOW


def test_hosts_actor_context_facts():
    p = policy(("project", """
default: allow
rules:
  - {id: gh-only, effect: deny, reason: not github, tool: [WebFetch], host: ["*"], unless: {host: [".github.com"]}}
  - {id: prod, effect: ask, reason: production, context: {environment: [prod]}, tool: ["*"]}
  - {id: intern, effect: deny, reason: interns cannot push, actor: {role: [intern]}, facts: ["git.push*"]}
"""))
    fetch = lambda h: decide(p, tool="WebFetch", hosts=[h], tool_input={"url": f"https://{h}/"})
    assert fetch("api.github.com").decision is Decision.ALLOW
    assert fetch("github.com").decision is Decision.ALLOW
    assert fetch("evil.com").decision is Decision.DENY
    assert decide(p, [bash(["ls"])], context={"environment": "prod"}).decision is Decision.ASK
    push = bash(["git", "push"], facts=[Fact("git.push")])
    assert decide(p, [push], actor={"roles": ["intern"]}).decision is Decision.DENY
    assert decide(p, [push], actor={"roles": ["dev"]}).decision is Decision.ALLOW


def test_action_level_facts_count_without_default():
    p = policy(("project", """
default: ask
rules:
  - {id: allow-echo, effect: allow, reason: echo, program: [echo, sh]}
  - {id: flow, effect: deny, reason: data into an interpreter, facts: [flow.*]}
"""))
    cmds = [bash(["echo", "x"]), bash(["sh"])]
    assert decide(p, cmds).decision is Decision.ALLOW
    assert decide(p, cmds, facts=[Fact("flow.data_to_interpreter")]).decision is Decision.DENY


def test_lower_layer_cannot_loosen_higher_deny_or_ask():
    managed = "rules: [{id: m-deny, effect: deny, reason: org says no, program: [terraform]}]"
    project = """
disable: [m-deny]
rules: [{id: p-allow, effect: allow, reason: we like terraform, program: [terraform]}]
"""
    p = policy(("managed", managed), ("project", project))
    v = decide(p, [bash(["terraform", "apply"])])
    assert v.decision is Decision.DENY and v.rules[0].layer == "managed"


def test_higher_layer_may_disable_lower_rules_unless_locked():
    builtin = "default: ask\nrules: [{id: ask-npm, effect: ask, reason: publishing, program: [npm]}]"
    project = "disable: [ask-*]\nrules: [{id: allow-npm, effect: allow, reason: ok here, program: [npm]}]"
    p = policy(("builtin", builtin), ("project", project))
    assert decide(p, [bash(["npm", "publish"])]).decision is Decision.ALLOW
    assert p.disabled == [{"id": "ask-npm", "by": "project.yaml"}]
    locked = policy(("builtin", builtin), ("project", project), ("managed", "lock: [disable]"))
    assert decide(locked, [bash(["npm", "publish"])]).decision is Decision.ASK
    assert any("locked" in w for w in locked.warnings)


def test_managed_lock_on_default_and_settings():
    p = policy(("builtin", "default: ask"), ("project", "default: allow\nsettings: {protected_branches: [dev]}"),
               ("managed", "lock: [default, settings]"))
    assert p.default is Decision.ASK
    assert p.settings["protected_branches"] == ["main", "master"]
    free = policy(("builtin", "default: ask"), ("project", "default: allow\nsettings: {protected_branches: [dev]}"))
    assert free.default is Decision.ALLOW and free.settings["protected_branches"] == ["dev"]


def test_lock_outside_managed_is_an_error():
    with pytest.raises(PolicyLoadError, match="only honoured in the managed layer"):
        policy(("project", "lock: [default]"))


@pytest.mark.parametrize("text,needle,line", [
    ("rules:\n  - id: x\n    effect: alow\n    reason: r\n    tool: [Bash]\n", "rules.0.effect", 3),
    ("rules:\n  - id: x\n    effect: deny\n    reason: r\n    tol: [Bash]\n", "unknown field", 5),
    ("rules:\n  - id: x\n    effect: deny\n    reason: r\n", "no match fields", 2),
    ("rules: [\n", "YAML syntax error", 2),
    ("- just\n- a list\n", "must be a mapping", 1),
    ("rules:\n  - {id: a, effect: deny, reason: r, tool: [X]}\n  - {id: a, effect: deny, reason: r, tool: [Y]}\n",
     "duplicate rule id", 3),
])
def test_load_errors_carry_file_and_line(text, needle, line):
    with pytest.raises(PolicyLoadError) as err:
        policy(("project", text))
    problem = next(p for p in err.value.problems if needle in p.message)
    assert problem.path == "project.yaml" and problem.line == line


def test_examples_are_checked_at_load():
    good = """
rules:
  - id: read-keys
    effect: deny
    reason: keys
    tool: [Read]
    path: ["~/.ssh/**"]
    examples:
      match: [{tool_name: Read, tool_input: {file_path: "~/.ssh/id_rsa"}}]
      not_match: [{tool_name: Read, tool_input: {file_path: "/home/dev/project/README.md"}}]
"""
    assert policy(("project", good)).rules[0].id == "read-keys"
    bad = good.replace("not_match: [{tool_name: Read, tool_input: {file_path: \"/home/dev/project/README.md\"}}]",
                       "not_match: [{tool_name: Read, tool_input: {file_path: \"~/.ssh/config\"}}]")
    with pytest.raises(PolicyLoadError, match="should not match but does"):
        policy(("project", bad))


def test_compiled_policy_pickles_and_digest_tracks_text():
    import pickle

    p = policy(("project", BASE))
    q = pickle.loads(pickle.dumps(p))
    assert q.digest == p.digest
    assert decide(q, [bash(["ls"])]).decision is Decision.ALLOW
    assert policy(("project", BASE + "\n# changed\n")).digest != p.digest


def test_higher_layer_rule_with_the_same_id_replaces_the_lower_one():
    builtin = "rules: [{id: web, effect: ask, reason: builtin asks, tool: [WebFetch]}]"
    project = "rules: [{id: web, effect: allow, reason: project allows, tool: [WebFetch]}]"
    p = policy(("builtin", builtin), ("project", project))
    v = decide(p, tool="WebFetch", hosts=["x.example"], tool_input={"url": "https://x.example/"})
    assert v.decision is Decision.ALLOW and v.rules[0].layer == "project"
    assert p.disabled[0]["id"] == "web" and "replaced" in p.disabled[0]["by"]
    with pytest.raises(PolicyLoadError, match="locked by the managed policy"):
        policy(("builtin", builtin), ("project", project), ("managed", "lock: [disable]"))
    with pytest.raises(PolicyLoadError, match="unique in a file"):
        policy(("project", "rules:\n  - {id: web, effect: allow, reason: a, tool: [WebFetch]}\n"
                               "  - {id: web, effect: deny, reason: b, tool: [WebFetch]}\n"))
