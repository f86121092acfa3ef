"""Tool arguments by shape and by inputSchema (analyze_arguments), SQL via sqlglot, URLs."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from shell_util import ENV, WS

from warden.core.analyze.arguments import analyze_arguments, tool_verb
from warden.core.analyze.sql import sql_facts, split_statements
from warden.core.analyze.urls import url_facts


def kinds(tool, args, schema=None, annotations=None):
    a = analyze_arguments(tool, args, schema, cwd=WS, workspace=WS, env=ENV, annotations=annotations)
    return {f.kind for f in a.all_facts()}


def test_verbs_from_snake_and_camel_case():
    assert tool_verb("mcp__github__get_issue") == "get"
    assert tool_verb("mcp__x__listFiles") == "list"
    assert tool_verb("mcp__db__execute_sql") == "execute"


def test_schema_names_the_role_when_the_key_does_not():
    schema = {"type": "object", "properties": {"q": {"type": "string", "description": "SQL statement to run"},
                                               "loc": {"type": "string", "format": "uri"},
                                               "what": {"type": "string", "description": "Shell command to run"}}}
    assert "db.destroy" in kinds("mcp__x__do", {"q": "DROP TABLE t"}, schema)
    assert "db.destroy" not in kinds("mcp__x__do", {"q": "DROP TABLE t"})  # without the schema it is just text
    assert "net.metadata" in kinds("mcp__x__do", {"loc": "http://169.254.169.254/"}, schema)
    assert "fs.critical" in kinds("mcp__x__do", {"what": "rm -rf /"}, schema)


def test_read_only_needs_a_reading_name_or_reading_sql_and_clean_arguments():
    assert "tool.read_only" in kinds("mcp__github__list_issues", {"repo": "a/b"})
    assert "tool.read_only" in kinds("mcp__pg__query", {"sql": "SELECT 1"})
    assert "tool.read_only" not in kinds("mcp__pg__query", {"sql": "SELECT 1; DELETE FROM t WHERE id = 1"})
    assert "tool.read_only" not in kinds("mcp__fs__read_file", {"path": "~/.ssh/id_rsa"})
    assert "tool.read_only" not in kinds("mcp__x__get_thing", {"command": "ls"})
    assert "tool.read_only" not in kinds("mcp__github__create_issue", {"title": "x"})
    # a server may declare readOnlyHint, but a writing name or writing arguments still win
    assert "tool.read_only" in kinds("mcp__x__thing", {"id": 1}, annotations={"readOnlyHint": True})
    assert "tool.read_only" not in kinds("mcp__x__delete_thing", {"id": 1}, annotations={"readOnlyHint": True})
    assert "tool.destructive" in kinds("mcp__x__thing", {"id": 1}, annotations={"destructiveHint": True})


def test_paths_take_the_access_of_the_verb():
    assert "secret.write" in kinds("mcp__fs__delete_file", {"path": "~/.aws/credentials"})
    assert "guard.tamper" in kinds("mcp__fs__write_file", {"path": ".claude/settings.json", "content": "{}"})
    assert "fs.write_outside" not in kinds("mcp__fs__read_file", {"path": "/usr/share/dict/words"})


def test_argv_lists_and_program_named_tools():
    assert "fs.critical" in kinds("mcp__run__exec", {"argv": ["rm", "-rf", "/"]})
    assert "cloud.destroy" in kinds("mcp__k8s__kubectl", {"args": "delete ns prod"})


def test_sql_statements_judged_one_by_one():
    got = [f.kind for f in sql_facts("select 1; update t set a = 1; delete from t where x = 2; drop view v")]
    assert got == ["db.read", "db.mutate", "db.write", "db.destroy"]
    assert [f.kind for f in sql_facts("EXPLAIN ANALYZE DELETE FROM t")] == ["db.destroy"]
    assert [f.kind for f in sql_facts("EXPLAIN SELECT 1")] == ["db.read"]
    assert [f.kind for f in sql_facts("GRANT ALL ON t TO u")] == ["db.privilege"]
    assert [f.kind for f in sql_facts("COPY t TO PROGRAM 'sh'")] == ["db.exec"]
    assert split_statements("select ';'; select 2 -- ; no\n") == ["select ';'", "select 2"]


def test_sql_bounds():
    assert [f.kind for f in sql_facts("SELECT " + "(" * 5000 + "1" + ")" * 5000)] == ["db.unparsed"]
    assert [f.kind for f in sql_facts("x" * 200_000)] == ["db.unparsed"]
    assert "db.unparsed" in {f.kind for f in sql_facts("select 1;" * 100)}


def test_urls():
    assert {f.kind for f in url_facts("http://2852039166/latest/meta-data/")[1]} == {"net.metadata"}  # 169.254.169.254
    assert "net.local" in {f.kind for f in url_facts("http://0177.0.0.1:8080/")[1]}  # octal 127.0.0.1
    assert "net.internal" in {f.kind for f in url_facts("http://0xa000001/")[1]}  # hex 10.0.0.1
    assert "secret.in_url" in {f.kind for f in url_facts("https://u:p4ssw0rd@h.example/")[1]}
    assert {f.kind for f in url_facts("https://docs.rs/serde/latest/serde/")[1]} == {"net.public_read"}
    assert url_facts("https://shop.example.com/cart?item=3")[1] == []  # public but not documentation: asks


def test_arguments_are_bounded():
    deep: dict = {}
    cur = deep
    for _ in range(50):
        cur["x"] = {}
        cur = cur["x"]
    assert "tool.args_too_deep" in kinds("mcp__x__get", deep)
    assert "tool.args_too_large" in kinds("mcp__x__get", {"a": ["s"] * 1000})
    assert "tool.args_too_large" in kinds("mcp__x__get", {"a": "s" * 200_000})


@settings(max_examples=80, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=60),
                    lambda c: st.lists(c, max_size=4) | st.dictionaries(
                        st.sampled_from(["sql", "path", "url", "command", "args", "q", "x"]), c, max_size=4),
                    max_leaves=20))
def test_fuzz_arguments_never_raise(value):
    analyze_arguments("mcp__f__run", {"v": value}, cwd=WS, workspace=WS, env=ENV)
