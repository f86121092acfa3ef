"""SQL text judged by what each statement does, with a real parser (sqlglot).

Used for SQL in MCP tool arguments (and available to any analyzer holding SQL text). Each
statement becomes one fact: ``db.read`` (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN without
ANALYZE), ``db.write`` (INSERT, UPDATE/DELETE with WHERE, MERGE), ``db.mutate`` (UPDATE without
WHERE), ``db.destroy`` (DROP, TRUNCATE, DELETE without WHERE), ``db.schema`` (CREATE, ALTER),
``db.privilege`` (GRANT, REVOKE, CREATE ROLE/USER), ``db.exec`` (COPY ... PROGRAM, INTO OUTFILE,
loading extensions: the server runs or writes something outside the database), and
``db.unparsed`` when a statement cannot be read. Bounded: at most 64 statements of 100,000
characters in all; parser failures of any kind are ``db.unparsed``, never an exception.
"""

from __future__ import annotations

from warden.core.facts import Fact

MAX_SQL_CHARS = 100_000
MAX_STATEMENTS = 64
READ_WORDS = frozenset({"SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "VALUES", "TABLE", "PRAGMA"})
PARSED_WORDS = frozenset({"SELECT", "WITH", "INSERT", "UPDATE", "DELETE", "DROP", "TRUNCATE", "ALTER", "CREATE",
                          "MERGE", "COPY", "REPLACE", "UPSERT"})
PRIVILEGE_WORDS = frozenset({"GRANT", "REVOKE"})
HARMLESS_WORDS = frozenset({"BEGIN", "COMMIT", "ROLLBACK", "START", "END", "SAVEPOINT", "RELEASE", "SET", "USE"})
SQL_START = READ_WORDS | PARSED_WORDS | PRIVILEGE_WORDS | frozenset({"EXPLAIN", "VACUUM", "ANALYZE", "CALL", "EXEC",
                                                                     "EXECUTE", "LOAD", "ATTACH", "DETACH"})


def split_statements(sql: str) -> list[str]:
    """Split on ``;`` outside quotes and comments (linear, no regexes)."""
    out, buf, i, n, quote = [], [], 0, len(sql), ""
    while i < n:
        c = sql[i]
        if quote:
            buf.append(c)
            if c == quote:
                quote = ""
        elif c in "'\"`":
            quote = c
            buf.append(c)
        elif c == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j
            continue
        elif c == "/" and sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        elif c == ";":
            out.append("".join(buf).strip())
            buf = []
        else:
            buf.append(c)
        i += 1
    out.append("".join(buf).strip())
    return [s for s in out if s]


def first_word(stmt: str) -> str:
    word = ""
    for ch in stmt.lstrip("( \t\r\n"):
        if ch.isalpha() or ch == "_":
            word += ch
        else:
            break
    return word.upper()


def looks_like_sql(text: str) -> bool:
    return first_word(text) in SQL_START


def sql_facts(sql: str, where: str = "") -> list[Fact]:
    at = f" ({where})" if where else ""
    if len(sql) > MAX_SQL_CHARS:
        return [Fact("db.unparsed", f"SQL of {len(sql)} characters is too long to analyze{at}")]
    facts: list[Fact] = []
    statements = split_statements(sql)
    if len(statements) > MAX_STATEMENTS:
        facts.append(Fact("db.unparsed", f"more than {MAX_STATEMENTS} SQL statements; only the first are read{at}"))
    for stmt in statements[:MAX_STATEMENTS]:
        facts.extend(_statement(stmt, at))
    return facts


def _statement(stmt: str, at: str) -> list[Fact]:
    word = first_word(stmt)
    short = stmt[:80]
    if word == "EXPLAIN":
        rest = stmt.lstrip()[len("EXPLAIN"):].lstrip()
        if first_word(rest) in ("ANALYZE", "ANALYSE"):
            # EXPLAIN ANALYZE runs the statement it explains
            return _statement(rest.lstrip()[7:].lstrip(), at)
        return [Fact("db.read", f"explains a query{at}: {short}")]
    if word in HARMLESS_WORDS:
        return [Fact("db.read", f"transaction or session statement{at}: {short}")]
    if word in PRIVILEGE_WORDS:
        return [Fact("db.privilege", f"changes database privileges{at}: {short}")]
    if word in ("SHOW", "DESCRIBE", "DESC", "PRAGMA") and "=" not in stmt:
        return [Fact("db.read", f"reads database metadata{at}: {short}")]
    if word in ("LOAD", "ATTACH", "CALL", "EXEC", "EXECUTE"):
        return [Fact("db.exec", f"runs a procedure, loads code or attaches a database file{at}: {short}")]
    if word not in PARSED_WORDS:
        return [Fact("db.unparsed", f"SQL statement the analyzer does not know ({word or '?'}){at}: {short}")]
    try:
        import logging

        import sqlglot
        from sqlglot import exp

        # sqlglot warns on stderr when it falls back to a raw command; that is ours to judge, not to print
        logging.getLogger("sqlglot").addHandler(logging.NullHandler())
        logging.getLogger("sqlglot").propagate = False

        trees = sqlglot.parse(stmt, error_level=sqlglot.ErrorLevel.RAISE)
    except RecursionError:
        return [Fact("db.unparsed", f"SQL nested too deeply to analyze{at}")]
    except Exception as e:  # sqlglot raises many kinds; an unreadable statement is never safe
        upper = stmt.upper()
        if word in ("SELECT", "WITH") and " INTO " in upper and ("OUTFILE" in upper or "DUMPFILE" in upper):
            return [Fact("db.exec", f"writes query results to a server file{at}: {short}")]
        return [Fact("db.unparsed", f"cannot parse the SQL ({type(e).__name__}){at}: {short}")]
    out: list[Fact] = []
    for tree in trees:
        if tree is None:
            continue
        out.extend(_expression(tree, exp, at, short))
    return out


def _expression(tree: object, exp: object, at: str, short: str) -> list[Fact]:
    e = exp  # the sqlglot.exp module, imported lazily by the caller
    kind = type(tree).__name__
    where = getattr(tree, "args", {}).get("where")
    if isinstance(tree, (e.Drop, e.TruncateTable)):  # type: ignore[attr-defined]
        what = str(getattr(tree, "args", {}).get("kind") or "TABLE").upper()
        return [Fact("db.destroy", f"{'TRUNCATE' if kind == 'TruncateTable' else 'DROP ' + what}{at}: {short}")]
    if isinstance(tree, e.Delete):  # type: ignore[attr-defined]
        if where is None:
            return [Fact("db.destroy", f"DELETE without WHERE removes every row{at}: {short}")]
        return [Fact("db.write", f"deletes rows{at}: {short}")]
    if isinstance(tree, e.Update):  # type: ignore[attr-defined]
        if where is None:
            return [Fact("db.mutate", f"UPDATE without WHERE changes every row{at}: {short}")]
        return [Fact("db.write", f"updates rows{at}: {short}")]
    if isinstance(tree, (e.Insert, e.Merge)):  # type: ignore[attr-defined]
        return [Fact("db.write", f"writes rows{at}: {short}")]
    if isinstance(tree, e.Copy):  # type: ignore[attr-defined]
        text = str(tree).upper()
        if "PROGRAM" in text:
            return [Fact("db.exec", f"COPY runs a program on the database server{at}: {short}")]
        return [Fact("db.write" if getattr(tree, "args", {}).get("kind") else "db.exec",
                     f"COPY moves data between a table and a file{at}: {short}")]
    if isinstance(tree, (e.Create, e.Alter)):  # type: ignore[attr-defined]
        what = str(getattr(tree, "args", {}).get("kind") or "").upper()
        if what in ("USER", "ROLE"):
            return [Fact("db.privilege", f"creates a database account{at}: {short}")]
        if what in ("FUNCTION", "PROCEDURE", "TRIGGER", "EXTENSION"):
            return [Fact("db.exec", f"creates code the database will run ({what}){at}: {short}")]
        return [Fact("db.schema", f"changes the schema{at}: {short}")]
    if isinstance(tree, (e.Select, e.Union, e.Describe, e.Pragma)):  # type: ignore[attr-defined]
        if getattr(tree, "args", {}).get("into") is not None:
            return [Fact("db.write", f"SELECT INTO creates a table{at}: {short}")]
        return [Fact("db.read", f"reads data{at}: {short}")]
    if isinstance(tree, (e.Transaction, e.Commit, e.Rollback)):  # type: ignore[attr-defined]
        return [Fact("db.read", f"transaction control{at}: {short}")]
    return [Fact("db.unparsed", f"SQL statement of a kind the analyzer does not judge ({kind}){at}: {short}")]
