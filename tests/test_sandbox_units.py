"""Table tests for the sandbox's pure parts: profile parsing, env scrubbing, seccomp assembly,
the egress allowlist, mount planning and the Claude Code rewrite. No bubblewrap needed."""

from __future__ import annotations

import os
import shlex
import struct
import sys
from pathlib import Path

import pytest

from warden.adapters.exec import ProfileError, parse_sandbox_section, wrap_for_claude
from warden.adapters.exec.env import is_credential_name, is_credential_value, scrub_env
from warden.adapters.exec.mounts import MountError, expand, plan_mounts
from warden.adapters.exec.proxy import EgressPolicy, _split_host_port, is_ip_literal
from warden.adapters.exec.seccomp import UnsupportedArch, build_filter, denied_syscalls
from warden.cli.exec_run import decided_command, fast_main

# -- profiles ----------------------------------------------------------------------------------------


def test_default_settings_have_a_closed_default_profile():
    s = parse_sandbox_section(None)
    p = s.profile("default")
    assert (s.claude_code, s.allow_unsandboxed, p.network, p.writable) == (False, False, "none", ())
    assert p.limits.wall_seconds == 1800 and p.limits.processes == 512


def test_lead_policy_model_dump_is_accepted():
    from warden.core.policy.model import Sandbox

    raw = Sandbox.model_validate({"profiles": {"net": {"network": "proxy", "allow_domains": ["PyPI.org."],
                                                        "limits": {"memory_mb": 512}}}}).model_dump()
    s = parse_sandbox_section(raw)
    net = s.profile("net")
    assert net.network == "proxy" and net.allow_domains == ("pypi.org",) and net.limits.memory_mb == 512
    assert s.profile("default").network == "none"


@pytest.mark.parametrize("raw,needle", [
    ([], "must be a mapping"),
    ({"profiles": {"x": {"network": "open"}}}, "sandbox.profiles.x.network"),
    ({"profiles": {"x": {"writable": "/"}}}, None),  # a single string is accepted as a list
    ({"profiles": {"x": {"writable": [1]}}}, "sandbox.profiles.x.writable"),
    ({"profiles": {"x": {"allow_domains": ["a.com"]}}}, "needs `network: proxy`"),
    ({"profiles": {"x": {"limits": {"memory_mb": True}}}}, "memory_mb must be an integer"),
    ({"profiles": {"x": {"limits": {"cpu_seconds": 0}}}}, "cpu_seconds must be an integer"),
    ({"profiles": {"x": {"limits": {"gpu": 1}}}}, "unknown limit"),
    ({"profiles": {"x": {"writeable": []}}}, "unknown field"),
    ({"allow_unsandboxed": "yes"}, "allow_unsandboxed must be true or false"),
    ({"profiles": ["x"]}, "sandbox.profiles must be a mapping"),
])
def test_malformed_sections_are_refused_with_the_field(raw, needle):
    if needle is None:
        assert parse_sandbox_section(raw).profile("x").writable == ("/",)
        return
    with pytest.raises(ProfileError, match=needle.replace("`", ".").replace("(", r"\(")):
        parse_sandbox_section(raw)


def test_unknown_profile_names_the_known_ones():
    with pytest.raises(ProfileError, match="defines: default, net"):
        parse_sandbox_section({"profiles": {"net": {}}}).profile("nett")


# -- environment -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,secret", [
    ("GITHUB_TOKEN", True), ("AWS_SECRET_ACCESS_KEY", True), ("OPENAI_API_KEY", True), ("DB_PASSWORD", True),
    ("SSH_AUTH_SOCK", True), ("STRIPE_KEY", True), ("DATABASE_URL", True), ("npm_config__auth", True),
    ("PATH", False), ("HOME", False), ("LANG", False), ("KEYBOARD_LAYOUT", False), ("GITHUB_WORKSPACE", False),
    ("AWS_REGION", False), ("TERM", False), ("PYTHONPATH", False),
])
def test_credential_names(name, secret):
    assert is_credential_name(name) is secret


@pytest.mark.parametrize("value,secret", [
    ("ghp_" + "A1" * 18, True), ("Bearer github_pat_" + "x" * 30, True), ("AKIAIOSFODNN7EXAMPLE", True),
    ("xoxb-1234567890-abcdef", True), ("postgres://app:hunter2@db:5432/x", True),
    ("-----BEGIN RSA PRIVATE KEY-----\nMII", True), ("sk-ant-" + "a" * 40, True),
    ("/usr/local/bin:/usr/bin", False), ("https://example.com/a:b@c", False), ("https://user@host/x", False),
    ("AKIA-not-a-key", False), ("task-ghp_short", False), ("", False),
])
def test_credential_values(value, secret):
    assert is_credential_value(value) is secret


def test_scrub_keeps_allowlisted_and_reports_names_only():
    env = {"GITHUB_TOKEN": "ghp_" + "a" * 36, "CI_JOB_TOKEN": "t", "PATH": "/bin", "MY_VAR": "ghp_" + "b" * 36}
    kept, removed = scrub_env(env, ["CI_*"], use_engine=False)
    assert kept == {"CI_JOB_TOKEN": "t", "PATH": "/bin"}
    assert removed == ["GITHUB_TOKEN", "MY_VAR"]


# -- seccomp -----------------------------------------------------------------------------------------

HEADERS = {"x86_64": "/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "aarch64": "/usr/include/asm-generic/unistd.h"}


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_syscall_numbers_match_kernel_headers(arch):
    header = Path(HEADERS[arch])
    if not header.exists():
        pytest.skip(f"{header} not installed (apt-get install linux-libc-dev)")
    defined: dict[str, int] = {}
    for line in header.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "#define" and parts[2].isdigit():
            name = parts[1].removeprefix("__NR3264_").removeprefix("__NR_")
            defined.setdefault(name, int(parts[2]))
    table = denied_syscalls(arch)
    assert len(table) > 40
    for name, nr in table.items():
        assert defined.get(name) == nr, name


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_filter_is_well_formed(arch):
    prog = build_filter(arch)
    assert len(prog) % 8 == 0
    insns = [struct.unpack("=HBBI", prog[i:i + 8]) for i in range(0, len(prog), 8)]
    assert insns[0] == (0x20, 0, 0, 4)  # load arch first: numbers mean nothing without it
    for pc, (code, jt, jf, _) in enumerate(insns):
        if code & 0x07 == 0x05:  # BPF_JMP: both branches land inside the program
            assert pc + 1 + max(jt, jf) < len(insns)
    assert insns[-1][0] == 0x06 and insns[-2][0] == 0x06  # ends in returns
    with pytest.raises(UnsupportedArch):
        build_filter("mips")


# -- egress allowlist --------------------------------------------------------------------------------

def _resolver(host, port):
    return {"pypi.org": ["151.101.0.223"], "files.pythonhosted.org": ["151.101.1.63"],
            "evil-rebind.com": ["10.0.0.5"], "mapped.com": ["::ffff:127.0.0.1"]}.get(host, ["93.184.216.34"])


@pytest.mark.parametrize("host,port,ok,reason", [
    ("pypi.org", 443, True, "allowlisted"),
    ("PyPI.org.", 443, True, "allowlisted"),
    ("pypi.org", 22, False, "not in the profile"),
    ("files.pythonhosted.org", 443, True, "allowlisted"),
    ("pythonhosted.org", 443, False, "not in the profile"),   # *.x does not include the apex
    ("pypi.org.evil.com", 443, False, "not in the profile"),
    ("evilpypi.org", 443, False, "not in the profile"),
    ("git.internal", 8443, True, "allowlisted"),
    ("git.internal", 443, False, "not in the profile"),
    ("1.2.3.4", 443, False, "IP literal"),
    ("[::1]", 443, False, "IP literal"),
    ("0x7f000001", 80, False, "IP literal"),
    ("127.1", 80, False, "IP literal"),
    ("169.254.169.254", 80, False, "metadata"),
    ("[fd00:ec2::254]", 80, False, "metadata"),
    ("metadata.google.internal", 80, False, "metadata"),
    ("evil-rebind.com", 443, False, "non-public"),
    ("mapped.com", 443, False, "non-public"),
    ("bad host", 443, False, "malformed"),
    ("pypi.org", 0, False, "invalid port"),
])
def test_egress_policy(host, port, ok, reason):
    pol = EgressPolicy(allow_domains=("pypi.org", "*.pythonhosted.org", "git.internal:8443", "evil-rebind.com",
                                      "mapped.com", "metadata.google.internal", "bad host"),
                       hosts={"git.internal": "10.1.1.1"}, resolver=_resolver)
    got_ok, got_reason, addrs = pol.check(host, port)
    assert (got_ok, reason in got_reason) == (ok, True), got_reason
    assert bool(addrs) is ok


@pytest.mark.parametrize("text,expected", [
    ("example.com:443", ("example.com", 443)), ("example.com", ("example.com", 80)),
    ("[::1]:8080", ("[::1]", 8080)), ("user:pw@example.com", (None, None)), ("example.com:x", (None, None)),
])
def test_split_host_port(text, expected):
    assert _split_host_port(text, 80) == expected


def test_ip_literal_forms():
    assert all(is_ip_literal(h) for h in ("10.0.0.1", "2130706433", "0x7f.1", "::1", "[fe80::1]"))
    assert not any(is_ip_literal(h) for h in ("example.com", "1.example.com", "localhost"))


# -- mounts ------------------------------------------------------------------------------------------

def test_expand_paths(tmp_path):
    (tmp_path / "a.key").write_text("")
    (tmp_path / "b.key").write_text("")
    assert expand("~/x/", "/ws", "/home/u") == ["/home/u/x"]
    assert expand("build", "/ws", "/home/u") == ["/ws/build"]
    assert expand("../up", "/ws/in", "/home/u") == ["/ws/up"]
    assert expand(str(tmp_path / "*.key"), "/ws", "/h") == [str(tmp_path / "a.key"), str(tmp_path / "b.key")]


def test_plan_refuses_dangerous_workspaces_and_masks(tmp_path):
    home = tmp_path / "home"
    ws = home / "proj"
    ws.mkdir(parents=True)
    for bad in ("/", str(home)):
        with pytest.raises(MountError, match="refusing"):
            plan_mounts(workspace=bad, home=str(home), warden_home="", writable=[], read_only=[], masked=[])
    with pytest.raises(MountError, match="contains the workspace"):
        plan_mounts(workspace=str(ws), home=str(home), warden_home="", writable=[], read_only=[], masked=[str(home)])


def test_env_file_walk_is_bounded_and_skips_dependency_trees(tmp_path):
    ws = tmp_path / "ws"
    (ws / "node_modules" / "pkg").mkdir(parents=True)
    (ws / "node_modules" / "pkg" / ".env").write_text("x")
    (ws / "svc").mkdir()
    (ws / "svc" / ".env.production").write_text("x")
    (ws / ".env.sample").write_text("x")
    (ws / ".env").mkdir()  # a virtualenv called .env is not a secret file
    plan = plan_mounts(workspace=str(ws), home="", warden_home="", writable=[], read_only=[], masked=[])
    assert [m for m in plan.masked if m.startswith(str(ws))] == [str(ws / "svc" / ".env.production")]


# -- Claude Code rewrite and CLI parsing -------------------------------------------------------------

@pytest.mark.parametrize("command", ["ls -la", "echo 'it''s' \"$HOME\" && cat <<EOF\nx\nEOF", "a; b | c > 'd e'",
                                     "printf '%s\\n' \"$(id)\" `date`", "echo ünïcödé"])
def test_wrap_for_claude_round_trips(command):
    wrapped = wrap_for_claude(command, "/work/my repo", profile="de fault")
    argv = shlex.split(wrapped)
    assert argv[:4] == [sys.executable, "-m", "warden", "exec"]
    assert argv[argv.index("--profile") + 1] == "de fault"
    assert argv[argv.index("--workspace") + 1] == "/work/my repo"
    assert argv[-2] == "-c" and argv[-1] == command and os.path.basename(argv[-3]) in ("bash", "sh")
    assert decided_command(argv[argv.index("--") + 1:]) == command  # the policy judges the agent's text


def test_decided_command_quotes_plain_argv():
    assert decided_command(["rm", "-rf", "a b"]) == "rm -rf 'a b'"
    assert decided_command(["bash", "-c", "x", "extra"]) == "bash -c x extra"


def test_fast_parser_defers_help_and_typos_to_click():
    assert fast_main(["--help"]) is None
    assert fast_main(["--profil", "x", "--", "true"]) is None
    assert fast_main(["--profile"]) is None
    assert fast_main([]) is None


@pytest.mark.parametrize("value", [
    "ghp_" + "a" * 36,  # low-entropy tails the text scanner lets pass as placeholders
    "sk-ant-api03-" + "a" * 93 + "AA",
    "AKIAIOSFODNN7EXAMPLE",  # the documented example key: in an environment it is still dropped
    "glpat-" + "a" * 20,
    "sk_live_" + "a" * 24,
])
def test_engine_flags_low_entropy_credentials_in_the_environment(value):
    from warden.adapters.exec.env import engine_flags

    env = {"HARMLESS_NAME": value, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TERM": "xterm-256color"}
    assert engine_flags(env) == ["HARMLESS_NAME"]
    kept, removed = scrub_env(env)
    assert removed == ["HARMLESS_NAME"] and "PATH" in kept
