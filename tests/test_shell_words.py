"""Normalization of words and program names: quotes, escapes, ANSI-C, paths, variables, braces."""

from __future__ import annotations

import pytest
from shell_util import an, argvs, kinds, programs

from warden.core.analyze.words import decode_ansi_c


@pytest.mark.parametrize("prog", [r"\rm", r"r\m", '"rm"', "'rm'", "r''m", 'r""m', "$'\\x72\\x6d'", "$'\\162\\155'",
                                  "$'\\u0072m'", '$"rm"', "/bin/rm", "/usr/bin/../bin/rm", "/bin//rm", "/usr/./bin/rm",
                                  "$(echo rm)", "`echo rm`", "$(printf 'rm')", "$(printf '\\x72\\x6d')", "r$(echo m)"])
def test_program_spellings_normalize_to_rm(prog):
    assert programs(f"{prog} -rf x")[-1] == "rm"


def test_local_programs_keep_their_path():
    # a workspace script called `ls` is not the system ls
    assert programs("./ls -la") == ["/home/dev/project/ls"]
    assert "exec.script" in kinds("./ls -la")
    assert "exec.script_outside" in kinds("/tmp/ls")


def test_ansi_c_decoding():
    assert decode_ansi_c(r"\x72\x6d \101\t\u00e9\cA") == "rm A\t\u00e9\x01"


@pytest.mark.parametrize("cmd,expected", [
    ("x=rm; $x -rf y", ("rm", "-rf", "y")),
    ("a=r; b=m; $a$b y", ("rm", "y")),
    ('cmd="rm -rf"; $cmd y', ("rm", "-rf", "y")),
    ('cmd="rm -rf"; "$cmd" y', ("rm -rf", "y")),
    ("x=/etcx; rm ${x%x}", ("rm", "/etc")),
    ("x=/ETC; rm ${x,,}", ("rm", "/etc")),
    ("x=abc; echo ${x:1:1}", ("echo", "b")),
    ("x=a_b; echo ${x/_/-}", ("echo", "a-b")),
    ("echo ${UNSET:-fallback}", ("echo", "fallback")),  # and ("echo", "⟨?⟩"): either may run
    ("echo {a,b}c", ("echo", "ac", "bc")),
    ("echo x{1..3}", ("echo", "x1", "x2", "x3")),
    ("echo '{a,b}'", ("echo", "{a,b}")),
    ("echo ~/x", ("echo", "/home/dev/x")),
    ("echo '~/x'", ("echo", "~/x")),
    ("echo $HOME ${HOME}", ("echo", "/home/dev", "/home/dev")),
])
def test_expansions(cmd, expected):
    assert argvs(cmd)[-1] == expected


def test_brace_expansion_as_program():
    # {rm,-rf,x} is a syntax error for tree-sitter; it must not be allowed silently
    assert "shell.parse_error" in kinds("{rm,-rf,x}")


def test_unknown_program_is_opaque():
    for cmd in ["$CMD -rf x", "${!ref} x", '"$@"', "$(cat prog) x"]:
        a = an(cmd)
        assert any(c.opaque for c in a.commands), cmd
        assert "exec.opaque" in {f.kind for f in a.all_facts()}


def test_glob_program_matches_candidates():
    assert "rm" in programs("/bin/r? -rf /")
    assert "exec.opaque" in kinds("/bin/r? -rf /")


def test_ifs_and_secret_variables():
    assert "exec.opaque" in kinds("IFS=,; x=1")
    assert "secret.env_read" in kinds("echo $GITHUB_TOKEN")
    assert "secret.env_read" not in kinds("echo $HOME")
