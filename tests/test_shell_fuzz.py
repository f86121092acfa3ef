"""Any input yields an Analysis and never raises; pathological inputs stay bounded.

Hypothesis drives random text, shell-flavoured token soup and binary junk through the analyzer
and the recommended policy. The pathological cases (1 MB, 100k-deep nesting, unbalanced quotes)
run under an alarm so a hang fails the test instead of stalling the suite.
"""

from __future__ import annotations

import signal
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shell_util import ENV, WS, an, builtin_policy

from warden.core.action import action_from_payload
from warden.core.facts import Analysis
from warden.core.flow import decide

TOKENS = ["rm", "-rf", "~", "/", "$(", ")", "`", "'", '"', "$'\\x72", "${", "}", "{", "(", ";", "|", "&&", "||", "&",
          "<<EOF\n", "\nEOF\n", "<<<", "<(", ">(", ">", "<", "2>&1", "\\", "\n", " ", "eval", "bash -c", "sudo",
          "find . -exec", "\\;", "xargs", "$x", "x=", "for i in", "do", "done", "if", "then", "fi", "case", "esac",
          "python -c", "base64 -d", "curl http://x", "|sh", "#", "!", "*", "?", "[", "]", "$((", "))", "\x00", "\udcff"]

def policy():
    return builtin_policy()


def check(cmd: str) -> None:
    result = an(cmd)
    assert isinstance(result, Analysis)
    for c in result.commands:
        assert isinstance(c.program, str) and isinstance(c.argv, tuple)
    action = action_from_payload({"tool_name": "Bash", "tool_input": {"command": cmd}, "cwd": WS})
    verdict = decide(policy(), action, ENV)
    assert verdict.decision.label in ("allow", "ask", "deny")
    assert verdict.error is None, verdict.error  # the analyzer never crashed into fail-closed


@contextmanager
def alarm(seconds: int):
    def boom(*_):
        raise TimeoutError(f"analysis did not finish within {seconds}s")

    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.text(max_size=400))
def test_random_text(cmd):
    check(cmd)


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=60).map("".join))
def test_shell_token_soup(cmd):
    check(cmd)


@FUZZ
@given(st.binary(max_size=300).map(lambda b: b.decode("utf-8", "surrogateescape")))
def test_binary_junk(cmd):
    check(cmd)


@pytest.mark.parametrize("make", [
    lambda: "echo " + "a" * (1024 * 1024),
    lambda: "a " * 60_000,
    lambda: "$(" * 100_000 + ")" * 100_000,
    lambda: "$(" * 5_000 + "rm -rf ~" + ")" * 5_000,
    lambda: "bash -c '" * 2_000,
    lambda: "'" * 99_999,
    lambda: '"$(' * 20_000,
    lambda: "{ " * 20_000 + "ls" + "; }" * 20_000,
    lambda: "(" * 30_000 + "ls" + ")" * 30_000,
    lambda: "ls|" * 20_000 + "ls",
    lambda: "x=$x$x; " * 3_000 + "$x",
    lambda: "f(){ f; }; " * 3_000 + "f",
    lambda: "echo {a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}{s,t}{u,v}",
    lambda: "eval " + "'eval " * 50 + "rm -rf ~" + "'" * 50,
    lambda: "<<EOF\n" * 10_000,
    lambda: "\\\n" * 50_000,
])
def test_pathological_inputs_are_bounded(make):
    with alarm(30):
        check(make())


def test_deep_nesting_is_not_silently_allowed():
    deep = "$(" * 5_000 + "rm -rf ~" + ")" * 5_000
    action = action_from_payload({"tool_name": "Bash", "tool_input": {"command": deep}, "cwd": WS})
    with alarm(30):
        assert decide(policy(), action, ENV).decision.label != "allow"


def test_astral_characters_do_not_crash_the_parser():
    """tree-sitter-bash 0.25 segfaults on some non-BMP characters; the analyzer must never reach that.

    Runs in a child process: a crash there fails this test instead of killing the test run.
    """
    import subprocess
    import sys

    code = (
        "import random, sys\n"
        "from warden.core.analyze import AnalysisEnv\n"
        "from warden.core.analyze.shell import analyze_shell\n"
        "env = AnalysisEnv(home='/home/dev')\n"
        "random.seed(2)\n"
        "for _ in range(3000):\n"
        "    s = ''.join(random.choice([chr(random.randint(0x10000, 0x10FFFF)), chr(random.randint(0xD800, 0xDFFF)),"
        " 'a', '{', ' ', '$', \"'\", '<<', '`']) for _ in range(random.randint(1, 30)))\n"
        "    analyze_shell(s, '/w', '/w', env)\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", (proc.returncode, proc.stderr[-500:])
