"""Shell command analysis: every simple command a Bash string will run, with its facts.

The tree-sitter-bash syntax tree is walked into simple commands — through pipelines, lists,
subshells, brace groups, command and process substitution, functions, loops, conditionals,
heredocs and redirections. Words are evaluated (:mod:`words`), constant assignments and
``cd`` are tracked, and each command goes to the program analyzers (:mod:`commands`), which
unwrap wrappers and re-enter here for code hidden in strings (``bash -c``, ``eval``).

Never raises: anything the walk cannot see through becomes ``exec.opaque``, which the
default policy never auto-allows. All work is bounded (see :mod:`shell_parse`).
"""

from __future__ import annotations

from typing import Any

from warden.core.analyze import AnalysisEnv
from warden.core.analyze.invocation import DECODE, DYNAMIC, NET, NO_FLOW, SECRET, Cmd, Flow, Invocation
from warden.core.analyze.paths import classify, home_of, resolve_path
from warden.core.analyze.shell_recovery import regroup as _regroup
from warden.core.analyze.shell_recovery import split_pieces
from warden.core.analyze.shell_parse import (
    MAX_COMMAND_CHARS,
    MAX_COMMANDS,
    MAX_NODE_DEPTH,
    MAX_NODES,
    MAX_REPARSE_DEPTH,
    parse,
    too_complex,
)
from warden.core.analyze.words import NAME, UNKNOWN, WordCtx, fields, flat, single, text
from warden.core.facts import OPAQUE, PARSE_ERROR, Access, Analysis, CommandInfo, Fact, PathRef

# After a syntax error (or for text too complex to parse whole) pieces are parsed one by one.
MAX_PIECES = 1_000
MAX_PIECE_CHARS = 1_024
MAX_FALLBACK_CHARS = 64_000

_MAX_CWDS = 8
_SKIP = frozenset({"comment", "heredoc_start", "heredoc_end", "file_descriptor", "variable_name", "test_operator",
                   "regex", "extglob_pattern", "special_variable_name", "number", "word", "raw_string",
                   "ansi_c_string", "string_content", "heredoc_content"})
_CONDITIONAL = frozenset({"if_statement", "elif_clause", "else_clause", "while_statement", "for_statement",
                          "c_style_for_statement", "case_statement", "case_item", "do_group"})


_UNKNOWN_SUBST: tuple[None, frozenset[str]] = (None, frozenset({DYNAMIC}))


def _no_subst(node: Any) -> None:
    return None


class _Budget(Exception):
    """Raised inside the walk when a bound is hit; the walk stops and reports it."""


class Session:
    """State for one action: variables, possible working directories, results."""

    def __init__(self, cwd: str, workspace: str, env: AnalysisEnv) -> None:
        self.env = env
        self.workspace = workspace or cwd
        self.cwds: list[str | None] = [cwd or self.workspace or "/"]
        self.home = home_of(env)
        self.vars: dict[str, list[str]] = {}
        self.var_taint: dict[str, frozenset[str]] = {}
        self.functions: dict[str, Any] = {}
        self.calling: list[str] = []
        self.downloads: set[str] = set()  # files written by network commands in this action
        self.implicit: dict[str, Any] = {}  # files other tools run implicitly, written in this action
        self.foreign: set[str] = set()  # directories holding freshly cloned or downloaded code
        self.links: dict[str, str] = {}  # symlinks created in this action: link path -> target path
        self.arrays: dict[str, list[str]] = {}
        self.commands: list[CommandInfo] = []
        self.facts: list[Fact] = []
        self.nodes = 0
        self.depth = 0  # re-parse depth
        self.cond = 0  # inside a branch or loop: assignments may or may not have happened
        self._subst: dict[int, tuple[str | None, frozenset[str]]] = {}
        self._trees: list[Any] = []  # keep trees alive so node ids stay unique
        self._drop: set[int] = set()  # argument nodes that are really redirect descriptors
        self._continuations: list[tuple[str, tuple[str, ...], int]] = []  # the rest of a heredoc's line

    # --- results ----------------------------------------------------------------------
    def action_fact(self, kind: str, detail: str, **data: Any) -> None:
        if not any(f.kind == kind and f.detail == detail for f in self.facts):
            self.facts.append(Fact(kind, detail, data))

    def resolve(self, raw: str, access: Access) -> list[PathRef] | None:
        if NAME in raw:
            head, _, _tail = raw.rpartition("/")
            if NAME in head or not head or UNKNOWN in raw:
                return None
            raw = f"{head}/*"  # a computed name in a literal directory: any entry of it
        if not raw or UNKNOWN in raw:
            return None
        refs = []
        for cwd in self.cwds:
            if cwd is None:
                if not raw.startswith(("/", "~")):
                    return None
                cwd = "/"
            path, inside = resolve_path(raw, cwd, self.workspace, self.env)
            if self.links:
                path, inside = self._through_links(path, inside)
            ref = PathRef(path=path, access=access, in_workspace=inside, raw=raw)
            if ref not in refs:
                refs.append(ref)
        return refs

    def _through_links(self, path: str, inside: bool) -> tuple[str, bool]:
        """A symlink made earlier in this action (``ln -s / x; rm -rf x/``) leads where it points."""
        from warden.core.analyze.paths import is_within

        for _ in range(8):  # links to links, bounded
            for link, target in self.links.items():
                if path == link or path.startswith(link + "/"):
                    path = target + path[len(link):]
                    path = path.replace("//", "/")
                    inside = is_within(path, self.workspace)
                    break
            else:
                break
        return path, inside

    # --- entry points -----------------------------------------------------------------
    def analyze_text(self, source: str, via: tuple[str, ...], stdin: Flow | None = None) -> list[Cmd]:
        if self.depth >= MAX_REPARSE_DEPTH:
            self._opaque_marker(source, via, "shell code nested too deeply to analyze")
            return []
        if len(source) > MAX_COMMAND_CHARS:
            self._opaque_marker(source[:200], via, "embedded shell code too large to analyze")
            return []
        reason = too_complex(source)
        if reason:
            self.action_fact("shell.too_complex", f"the shell code is too complex to parse as a whole ({reason})")
            self._opaque_marker(source[:200], via, f"too complex to parse as a whole ({reason})")
            self.depth += 1
            try:
                self._fallback(source, via)
            finally:
                self.depth -= 1
            return []
        root = parse(source)
        self._trees.append(root)
        regrouped = _regroup(source)
        if regrouped is not None:
            # tree-sitter-bash cannot read `time { ...; }`, `! { ...; }`, `coproc NAME { ...; }`: the group
            # is also analyzed without the prefix, so assignments inside it are seen
            self.depth += 1
            try:
                self.walk(parse(regrouped), (*via, "{ }"), stdin, [], 0)
            finally:
                self.depth -= 1
        self.depth += 1
        try:
            if root.has_error:
                self.action_fact(PARSE_ERROR, "the shell code has a syntax error; its meaning is uncertain",
                                 via=" > ".join(via))
                out = self.walk(root, via, stdin, [], 0)
                self._fallback(source, via)
                return out
            return self.walk(root, via, stdin, [], 0)
        finally:
            self.depth -= 1

    def _fallback(self, source: str, via: tuple[str, ...]) -> None:
        """After a syntax error, also analyze each piece between operators on its own.

        tree-sitter's error recovery can swallow whole commands (``[ -d ~ ] && rm -rf ~``); the
        pieces that parse cleanly are walked too, so an error never hides a command we can read.
        """
        budget = MAX_FALLBACK_CHARS
        for piece in split_pieces(source)[:MAX_PIECES]:
            if not piece.strip() or piece.strip() == source.strip() or len(piece) > MAX_PIECE_CHARS:
                continue
            budget -= len(piece)
            if budget < 0 or too_complex(piece):
                break
            root = parse(piece)
            self._trees.append(root)
            if not root.has_error:
                self.walk(root, (*via, "after a syntax error"), None, [], 0)

    def _opaque_marker(self, raw: str, via: tuple[str, ...], why: str) -> None:
        info = CommandInfo(program="", argv=(), raw=raw[:200], opaque=True, via=via, facts=[Fact(OPAQUE, why)])
        self.commands.append(info)

    def run(self, inv: Invocation) -> list[Cmd]:
        from warden.core.analyze.commands import analyze_invocation

        if len(self.commands) >= MAX_COMMANDS:
            raise _Budget("too many commands")
        return analyze_invocation(inv, self)

    # --- the walk -----------------------------------------------------------------------
    def walk(self, node: Any, via: tuple[str, ...], stdin: Flow | None,
             redirects: list[tuple[str, str, frozenset[str]]], depth: int) -> list[Cmd]:
        """Walk a syntax node; return the commands whose stdout is this node's stdout."""
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_NODE_DEPTH:
            raise _Budget("the command is too large or too deeply nested to analyze")
        t = node.type
        if t in _SKIP:
            return []
        if t == "command":
            return self._command(node, via, stdin, redirects, depth)
        if t == "pipeline":
            return self._pipeline(node, via, stdin, redirects, depth)
        if t == "redirected_statement":
            return self._redirected(node, via, stdin, redirects, depth)
        if t == "variable_assignment":
            self._assign(node, depth, via)
            self.run(Invocation([":", text(node)[:200]], [frozenset()] * 2, text(node), via))
            return []
        if t == "declaration_command":
            return self._declaration(node, via, depth)
        if t == "unset_command":
            names = [text(c) for c in node.named_children]
            self.run(Invocation(["unset", *names], [frozenset()] * (len(names) + 1), text(node), via))
            for c in node.named_children:
                self.vars.pop(text(c), None)
                if text(c) in ("HISTFILE", "HISTSIZE", "HISTFILESIZE"):
                    self.action_fact("sys.history_tamper", f"unset {text(c)} stops recording shell history")
            return []
        if t == "function_definition":
            name = node.child_by_field_name("name")
            body = node.child_by_field_name("body")
            if name is not None and body is not None:
                self.functions[text(name)] = body
            return []
        if t == "for_statement":
            return self._for(node, via, stdin, redirects, depth)
        if t == "list":
            return self._list(node, via, stdin, redirects, depth)
        if t == "ERROR":
            self.action_fact(PARSE_ERROR, "the command has a syntax error; its meaning is uncertain")
        if t in ("command_substitution", "process_substitution"):
            self._substitution(node, via, depth)
            return []
        conditional = t in _CONDITIONAL
        self.cond += conditional
        try:
            out: list[Cmd] = []
            for child in node.named_children:
                out = self.walk(child, via, stdin, redirects, depth + 1) or out
            return out
        finally:
            self.cond -= conditional

    def _list(self, node: Any, via: tuple[str, ...], stdin: Flow | None,
              redirects: list[tuple[str, str, frozenset[str]]], depth: int) -> list[Cmd]:
        out: list[Cmd] = []
        for i, child in enumerate(node.named_children):
            # `a && b`, `a || b`: whether b runs depends on a.
            self.cond += i > 0
            try:
                out += self.walk(child, via, stdin, redirects, depth + 1)
            finally:
                self.cond -= i > 0
        return out

    def _pipeline(self, node: Any, via: tuple[str, ...], stdin: Flow | None,
                  redirects: list[tuple[str, str, frozenset[str]]], depth: int) -> list[Cmd]:
        flow = stdin
        out: list[Cmd] = []
        start = len(self.commands)
        for child in node.named_children:
            out = self.walk(child, via, flow, redirects, depth + 1)
            flow = _merge_out(out)
        if len(out) == 1 and _counts_only(out[0].info):
            _forget_env_reads(self.commands[start:-1])
        return out

    def _redirected(self, node: Any, via: tuple[str, ...], stdin: Flow | None,
                    redirects: list[tuple[str, str, frozenset[str]]], depth: int) -> list[Cmd]:
        body = node.child_by_field_name("body")
        extra = list(redirects)
        mark = len(self._continuations)
        for child in node.children:
            if child.type in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
                tail = body
                while tail is not None and tail.type in ("list", "pipeline") and tail.named_children:
                    tail = tail.named_children[-1]
                if tail is not None and tail.type == "command" and tail.named_children:
                    last = tail.named_children[-1]
                    if last.end_byte == child.start_byte and text(last).isdigit():
                        self._drop.add(last.id)  # `sh 0</tmp/p`: the digits are the descriptor
                stdin = self._redirect(child, extra, stdin, via, depth) or stdin
        if body is None:
            # A bare redirection (`> file`) truncates or creates the file.
            inv = Invocation(argv=[":"], taints=[frozenset()], raw=text(node), via=via, redirects=extra, stdin=stdin)
            return self._continue(mark, self.run(inv))
        return self._continue(mark, self.walk(body, via, stdin, extra, depth + 1))

    def _continue(self, mark: int, results: list[Cmd]) -> list[Cmd]:
        """Walk the commands that followed a heredoc operator on its line (see _redirect)."""
        while len(self._continuations) > mark:
            rest, via, _depth = self._continuations.pop(mark)
            stripped = rest.lstrip()
            if stripped.startswith("|") and not stripped.startswith("||"):
                # `cat <<EOF | sh`: the rest of the pipeline reads this command's output
                out = self.analyze_text(stripped[1:].lstrip("&"), via, stdin=_merge_out(results))
                results = out or results
            else:
                # `> out`, `&& next`, `; next`: `:` stands in for this command so redirections parse
                self.cond += 1
                try:
                    self.analyze_text(": " + rest, via)
                finally:
                    self.cond -= 1
        return results

    def _redirect(self, node: Any, acc: list[tuple[str, str, frozenset[str]]], stdin: Flow | None,
                  via: tuple[str, ...], depth: int) -> Flow | None:
        ctx = self._wctx()
        if node.type == "herestring_redirect":
            value = node.named_children[-1] if node.named_children else None
            if value is None:
                return None
            self._substitutions_in(value, via, depth)
            v = single(value, ctx)
            return Flow(frozenset(ctx.taint), None if UNKNOWN in v else v + "\n")
        if node.type == "heredoc_redirect":
            return self._heredoc_line(node, via, depth)
        op = ""
        target = None
        for child in node.children:
            if not child.is_named:
                op += child.type
            elif child.type == "ERROR" and text(child) in (">", "<", "&", "|"):
                op += text(child)  # tree-sitter-bash does not know `<>`: it leaves `>` as an error
            elif child.type != "file_descriptor" and target is None:
                target = child
        if target is None:
            return None
        self._substitutions_in(target, via, depth)
        dest = single(target, ctx)
        if op in (">&", "<&", ">&-", "<&-") and (dest.isdigit() or dest == "-"):
            return None
        taint = frozenset(ctx.taint)
        code = None
        if target.type == "process_substitution" and target.id in self._subst:
            # `3< <(curl ...)`: the descriptor carries what the substitution prints
            code, sub_taint = self._subst[target.id]
            taint |= sub_taint - {DYNAMIC} if code is not None else sub_taint
        acc.append((op, dest, taint))
        if op in ("<",):
            return Flow(taint, code, None if code is not None else dest)
        return None

    def _heredoc_line(self, node: Any, via: tuple[str, ...], depth: int) -> Flow:
        """A heredoc operator, the rest of its line, and its body.

        tree-sitter-bash nests what follows ``<<EOF`` on the same line inside the heredoc node
        (``cat <<EOF | sh``, ``cat <<EOF && rm -rf ~``, ``cat <<EOF > out``) and sometimes lets that
        command swallow the body (a body starting with a backslash). So the rest of the line is
        re-parsed on its own, after this command (see _continue), and the body is cut out by the
        delimiter when the tree disagrees.
        """
        start = next((c for c in node.children if c.type == "heredoc_start"), None)
        raw = node.text
        if start is None:
            return self._heredoc(node, via, depth)
        op_end = start.end_byte - node.start_byte
        nl = raw.find(b"\n", op_end)
        rest = raw[op_end:nl if nl >= 0 else len(raw)].decode("utf-8", "replace")
        if rest.strip():
            self._continuations.append((rest, via, depth))
        body = next((c for c in node.children if c.type == "heredoc_body"), None)
        swallowed = nl >= 0 and any(
            c.end_byte - node.start_byte > nl for c in node.named_children
            if c.type not in ("heredoc_start", "heredoc_body", "heredoc_end"))
        if body is not None and not swallowed:
            return self._heredoc(node, via, depth)
        # cut the body out ourselves: the lines up to the delimiter
        delim = text(start).strip("'\"\\")
        lines = raw[nl + 1:].decode("utf-8", "replace").split("\n") if nl >= 0 else []
        body_lines = []
        for line in lines:
            if line.strip("\t") == delim:
                break
            body_lines.append(line)
        self.action_fact(PARSE_ERROR, "tree-sitter misread a heredoc; its body was cut out by the delimiter")
        body_text = "\n".join(body_lines) + "\n"
        if any(q in text(start) for q in "'\"\\"):
            return Flow(text=body_text)
        # an unquoted delimiter: \$ \` \\ are escapes; a bare $ or ` expands at run time
        out, i, dynamic = [], 0, False
        while i < len(body_text):
            ch = body_text[i]
            if ch == "\\" and i + 1 < len(body_text) and body_text[i + 1] in "$`\\\n":
                out.append("" if body_text[i + 1] == "\n" else body_text[i + 1])
                i += 2
                continue
            dynamic |= ch in "$`"
            out.append(ch)
            i += 1
        if dynamic:
            self.analyze_text(f'echo "{body_text}"', (*via, "heredoc"))  # substitutions in it run
            return Flow(frozenset({DYNAMIC}), None)
        return Flow(text="".join(out))

    def _heredoc(self, node: Any, via: tuple[str, ...], depth: int) -> Flow:
        start = node.child_by_field_name("heredoc_start") or next(
            (c for c in node.children if c.type == "heredoc_start"), None)
        body = next((c for c in node.children if c.type == "heredoc_body"), None)
        if body is None:
            return Flow(text="")
        delim = text(start) if start is not None else ""
        quoted = any(q in delim for q in "'\"\\")
        if quoted:
            return Flow(text=text(body))
        self._substitutions_in(body, via, depth)
        raw = text(body)
        if "`" in raw.replace("\\\\", "").replace("\\`", ""):
            # tree-sitter leaves (unescaped) backquotes inside heredocs as text: they still run
            parts = raw.replace("\\`", "\0").split("`")
            for inner in parts[1::2]:
                self.analyze_text(inner.replace("\0", "`"), (*via, "heredoc `...`"))
            return Flow(frozenset({DYNAMIC}), None)
        ctx = self._wctx()
        values = [v for alt in fields(body, ctx) for v in alt]
        value = values[0] if len(values) == 1 else UNKNOWN
        return Flow(frozenset(ctx.taint), None if UNKNOWN in value else value)

    def _for(self, node: Any, via: tuple[str, ...], stdin: Flow | None,
             redirects: list[tuple[str, str, frozenset[str]]], depth: int) -> list[Cmd]:
        var = node.child_by_field_name("variable")
        values: list[str] = []
        ctx = self._wctx()
        has_in = False
        for i, child in enumerate(node.children):
            if node.field_name_for_child(i) == "value":
                has_in = True
                self._substitutions_in(child, via, depth)
                values += flat(child, ctx)
        if var is not None:
            name = text(var)
            self.vars[name] = (values[:16] if len(values) <= 16 else [UNKNOWN]) if has_in else [UNKNOWN]
            self.var_taint[name] = frozenset(ctx.taint)
        body = node.child_by_field_name("body")
        if body is None:
            return []
        self.cond += 1
        try:
            return self.walk(body, via, stdin, redirects, depth + 1)
        finally:
            self.cond -= 1

    def _set_var(self, name: str, values: list[str], taint: frozenset[str]) -> None:
        if self.cond:
            old = self.vars.get(name, [UNKNOWN])
            merged = list(dict.fromkeys(old + values))
            self.vars[name] = merged if len(merged) <= 16 else [UNKNOWN]
            self.var_taint[name] = self.var_taint.get(name, frozenset()) | taint
        else:
            self.vars[name] = values
            self.var_taint[name] = taint

    def _assign(self, node: Any, depth: int, via: tuple[str, ...] = ()) -> None:
        name_node = node.child_by_field_name("name")
        value = node.child_by_field_name("value")
        name = text(name_node) if name_node is not None else ""
        if "[" in name:
            name = name.split("[")[0]
        ctx = self._wctx()
        if value is None:
            values = [""]
        else:
            self._substitutions_in(value, via, depth)
            if value.type == "array":
                elements = [f for child in value.named_children for f in flat(child, ctx)][:64]
                if name and not self.cond:
                    self.arrays[name.split("[")[0]] = elements
                elif name:
                    self.arrays.pop(name.split("[")[0], None)
                values = [" ".join(elements)]
            else:
                values = [" ".join(alt) for alt in fields(value, ctx)]
        appending = any(c.type == "+=" for c in node.children)
        if appending:
            old = self.vars.get(name, [UNKNOWN])
            values = [UNKNOWN] if len(old) * len(values) > 16 else [a + b for a in old for b in values]
        if name:
            self._set_var(name, values, frozenset(ctx.taint))
            self._special_assignment(name, values, via)

    def _special_assignment(self, name: str, values: list[str], via: tuple[str, ...], scoped: bool = False) -> None:
        from warden.core.analyze.envvars import assignment_facts

        for kind, detail in assignment_facts(name, values, scoped):
            self.action_fact(kind, detail, variable=name)

    def _declaration(self, node: Any, via: tuple[str, ...], depth: int) -> list[Cmd]:
        argv = [node.children[0].type if node.children else "declare"]
        for child in node.named_children:
            if child.type == "variable_assignment":
                self._assign(child, depth, via)
            else:
                self._substitutions_in(child, via, depth)
            argv.append(text(child))
        # `export X=1` is a command of its own (allowed by name); `declare -p` prints variables
        return self.run(Invocation(argv, [frozenset()] * len(argv), text(node), via))

    # --- substitutions --------------------------------------------------------------------
    def _substitutions_in(self, node: Any, via: tuple[str, ...], depth: int) -> None:
        """Walk every $(...), `...` and <(...) inside a word: they run before the command."""
        if node.type in ("command_substitution", "process_substitution"):
            self._substitution(node, via, depth)
            return
        if node.named_child_count == 0:
            return  # a plain word: the common case
        stack = [(node, depth)]
        while stack:
            cur, d = stack.pop()
            self.nodes += 1
            if self.nodes > MAX_NODES or d > MAX_NODE_DEPTH:
                raise _Budget("the command is too large or too deeply nested to analyze")
            for child in cur.named_children:
                if child.type in ("command_substitution", "process_substitution"):
                    self._substitution(child, via, d + 1)
                else:
                    stack.append((child, d + 1))

    def _substitution(self, node: Any, via: tuple[str, ...], depth: int) -> tuple[str | None, frozenset[str]]:
        key = node.id
        if key in self._subst:
            return self._subst[key]
        self._subst[key] = (None, frozenset({DYNAMIC}))  # guards re-entry
        kind = "$(...)" if node.type == "command_substitution" else "<(...)"
        if node.named_child_count == 0:
            self._subst[key] = ("", frozenset())  # `cu$()rl`: an empty substitution adds nothing
            return self._subst[key]
        out: list[Cmd] = []
        for child in node.named_children:
            if child.type == "file_redirect" and node.named_child_count == 1:
                out = self._read_shorthand(child, (*via, kind), depth + 1)
                continue
            out = self.walk(child, (*via, kind), None, [], depth + 1) or out
        flow = _merge_out(out)
        taint = flow.taint if flow.text is not None else flow.taint | {DYNAMIC}
        text = flow.text
        if text is None and len(out) == 1 and out[0].program == "basename" and not (flow.taint - {DYNAMIC}):
            # `$(basename "$f")` is one file name whatever $f is: under a literal directory it stays there
            text, taint = NAME, frozenset()
        if text is None and flow.items:
            # a lister's output stands for the paths it lists: `cat $(ls ~/.ssh/id_*)`
            text = " ".join(flow.items)
        result = (text, frozenset(taint))
        self._subst[key] = result
        return result

    def _read_shorthand(self, node: Any, via: tuple[str, ...], depth: int) -> list[Cmd]:
        """`$(< file)` is bash's shorthand for `$(cat file)`: the file is read."""
        target = next((c for c in node.named_children if c.type != "file_descriptor"), None)
        if target is None:
            return []
        self._substitutions_in(target, via, depth)
        ctx = self._wctx()
        dest = single(target, ctx)
        return self.run(Invocation(["cat", dest], [frozenset(), frozenset(ctx.taint)], text(node), via))

    def _wctx(self) -> WordCtx:
        results = self._subst
        ctx = WordCtx(vars=self.vars, home=self.home, cwd=self.cwds[0] or UNKNOWN, subst=_no_subst,
                      var_taint=self.var_taint, warden_home=self.env.warden_home, arrays=self.arrays)

        def subst(n: Any) -> str | None:
            value, taint = results.get(n.id, _UNKNOWN_SUBST)
            ctx.taint.update(taint)
            return value

        ctx.subst = subst
        return ctx

    # --- simple commands ------------------------------------------------------------------
    def _command(self, node: Any, via: tuple[str, ...], stdin: Flow | None,
                 redirects: list[tuple[str, str, frozenset[str]]], depth: int) -> list[Cmd]:
        assigns: dict[str, str] = {}
        words: list[Any] = []
        extra = list(redirects)
        mark = len(self._continuations)
        for child in node.named_children:
            t = child.type
            if t == "variable_assignment":
                n = child.child_by_field_name("name")
                v = child.child_by_field_name("value")
                self._substitutions_in(child, via, depth)
                value = single(v, self._wctx()) if v is not None else ""
                if n is not None:
                    assigns[text(n)] = value
            elif t in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
                if words and words[-1].end_byte == child.start_byte and text(words[-1]).isdigit():
                    words.pop()  # `sh 0</tmp/p`: the digits are the redirect's descriptor
                stdin = self._redirect(child, extra, stdin, via, depth) or stdin
            elif t == "command_name":
                words.append(child.named_children[0] if child.named_children else child)
            elif t != "comment" and child.id not in self._drop:
                words.append(child)
        for w in words:
            self._substitutions_in(w, via, depth)
        raw = text(node)
        for name, value in assigns.items():
            self._special_assignment(name, [value], via, scoped=bool(words))
        if not words:
            # Assignments only (`a=1 b=2`): they set shell variables; reported as the null command.
            for child in node.named_children:
                if child.type == "variable_assignment":
                    self._assign(child, depth, via)
            shown = [f"{k}={v}" for k, v in assigns.items()][:8]
            return self._continue(mark, self.run(Invocation([":", *shown], [frozenset()] * (1 + len(shown)), raw,
                                                            via, assigns, extra, stdin)))
        # Expand words; alternatives of the program name become separate invocations.
        ctx = self._wctx()
        heads = fields(words[0], ctx)
        head_taint = frozenset(ctx.taint)
        # Each argument word: its alternatives (a loop variable, a value set in one branch only).
        per_word: list[list[list[str]]] = []
        word_taints: list[frozenset[str]] = []
        procsub_words: dict[int, tuple[frozenset[str], str | None]] = {}
        wctx = self._wctx()
        for k, w in enumerate(words[1:]):
            wctx.taint = set()
            per_word.append(fields(w, wctx))
            word_taints.append(frozenset(wctx.taint))
            if w.type == "process_substitution":
                text_value, taint_value = self._subst.get(w.id, (None, frozenset()))
                procsub_words[k] = (taint_value, text_value)
        combos = 1
        for alts in per_word:
            combos *= len(alts)
        # Few combinations: analyze each (`sudo $p` with p in {ls, rm} is two commands). Many: one command
        # carrying the union of every alternative as arguments (what matters then is every path it may touch).
        tails = _combinations(per_word, word_taints, procsub_words) if 1 < combos <= 8 else [
            _union(per_word, word_taints, procsub_words)]
        results: list[Cmd] = []
        for head in heads[:8]:
            if not head:
                head = [""]
            for argv_tail, taints_tail, procsubs in tails:
                argv = head + argv_tail
                taints = [head_taint] * len(head) + taints_tail
                shift = len(head)
                inv = Invocation(argv, taints, raw, via, assigns, extra, stdin,
                                 {i + shift: t for i, t in procsubs.items()})
                program = argv[0]
                if program in self.functions and UNKNOWN not in program:
                    results += self._call_function(program, inv, depth)
                else:
                    results += self.run(inv)
        return self._continue(mark, results)

    def _call_function(self, name: str, inv: Invocation, depth: int) -> list[Cmd]:
        if name in self.calling:
            body_text = text(self.functions[name])
            kind = "sys.fork_bomb" if ("&" in body_text or "|" in body_text) else "exec.recursion"
            self.action_fact(kind, f"function {name} calls itself" + (
                " in the background or a pipeline: a fork bomb" if kind == "sys.fork_bomb" else ""))
            return []
        saved = {k: self.vars.get(k) for k in ("1", "2", "3", "4", "5", "6", "7", "8", "9", "@", "*")}
        for i in range(1, 10):
            self.vars[str(i)] = [inv.argv[i]] if i < len(inv.argv) else [""]
        rest = inv.argv[1:]
        self.vars["@"] = [" ".join(rest)]
        self.vars["*"] = [" ".join(rest)]
        self.calling.append(name)
        try:
            return self.walk(self.functions[name], (*inv.via, f"function {name}"), inv.stdin, inv.redirects,
                             depth + 1)
        finally:
            self.calling.pop()
            for k, v in saved.items():
                if v is None:
                    self.vars.pop(k, None)
                else:
                    self.vars[k] = v

    # --- cwd tracking (used by `cd`/`pushd` analyzers) ------------------------------------
    def change_dir(self, raw: str | None) -> None:
        """After ``cd``: the new dir joins the possible working directories (cd may fail)."""
        new: list[str | None] = []
        if raw is None or UNKNOWN in raw or raw == "-":
            new = [None]
        else:
            for cwd in self.cwds:
                if cwd is None and not raw.startswith(("/", "~")):
                    new.append(None)
                    continue
                path, _ = resolve_path(raw, cwd or "/", self.workspace, self.env)
                new.append(path)
        merged = list(dict.fromkeys(self.cwds + new))
        self.cwds = merged if len(merged) <= _MAX_CWDS else [*merged[:_MAX_CWDS - 1], None]


Tail = tuple[list[str], list[frozenset[str]], dict[int, tuple[frozenset[str], str | None]]]


def _union(per_word: list[list[list[str]]], taints: list[frozenset[str]],
           procsub_words: dict[int, tuple[frozenset[str], str | None]]) -> Tail:
    argv: list[str] = []
    argv_taints: list[frozenset[str]] = []
    procsubs: dict[int, tuple[frozenset[str], str | None]] = {}
    for k, alts in enumerate(per_word):
        values = list(dict.fromkeys(f for alt in alts for f in alt))
        if k in procsub_words:
            procsubs[len(argv)] = procsub_words[k]
        argv += values
        argv_taints += [taints[k]] * len(values)
        if len(argv) > 4096:
            return [*argv[:4096], UNKNOWN], [*argv_taints[:4096], frozenset()], procsubs
    return argv, argv_taints, procsubs


def _combinations(per_word: list[list[list[str]]], taints: list[frozenset[str]],
                  procsub_words: dict[int, tuple[frozenset[str], str | None]]) -> list[Tail]:
    out: list[Tail] = [([], [], {})]
    for k, alts in enumerate(per_word):
        grown: list[Tail] = []
        for argv, argv_taints, procsubs in out:
            for alt in alts:
                subs = dict(procsubs)
                if k in procsub_words:
                    subs[len(argv)] = procsub_words[k]
                grown.append((argv + alt, argv_taints + [taints[k]] * len(alt), subs))
        out = grown
    return out


COUNT_FLAGS = frozenset({"-c", "--count", "-q", "--quiet", "--silent", "-l", "-L"})
PURE_FILTERS = frozenset({"grep", "egrep", "fgrep", "rg", "sort", "uniq", "cut", "tr", "head", "tail", "sed", "awk"})
ENV_READS = frozenset({"secret.env_dump", "secret.env_read"})


def _counts_only(info: CommandInfo) -> bool:
    """The last stage prints only a count or a yes/no (`wc`, `grep -c`, `grep -q`): no value leaks."""
    if info.program == "wc":
        return not any(not a.startswith("-") for a in info.argv[1:])
    if info.program in ("grep", "egrep", "fgrep", "rg"):
        return any(a in COUNT_FLAGS or (a.startswith("-") and not a.startswith("--") and ("c" in a or "q" in a))
                   for a in info.argv[1:])
    return False


def _forget_env_reads(infos: list[CommandInfo]) -> None:
    """`env | grep -c PATH`, `echo "$TOKEN" | wc -c`: the environment was read only to be counted."""
    for info in infos:  # every earlier stage must only read and filter, or the values go somewhere
        if any(p.access != Access.READ for p in info.paths) or not (
                info.program in PURE_FILTERS or any(f.kind in ENV_READS for f in info.facts)):
            return
    for info in infos:
        info.facts[:] = [f for f in info.facts if f.kind not in ENV_READS]


def _merge_out(cmds: list[Cmd]) -> Flow:
    if not cmds:
        return NO_FLOW
    if len(cmds) == 1:
        return cmds[0].out
    items = tuple(i for c in cmds for i in (c.out.items or ()))
    taint: frozenset[str] = frozenset()
    for c in cmds:
        taint |= c.out.taint
    return Flow(taint, items=items or None)


def analyze_shell(command: str, cwd: str, workspace: str, env: AnalysisEnv) -> Analysis:
    """Decompose a Bash command into simple commands with facts. Never raises."""
    session = Session(cwd, workspace, env)
    try:
        if len(command) > MAX_COMMAND_CHARS:
            session.action_fact("shell.too_large", f"the command is {len(command)} characters; "
                                f"Warden analyzes at most {MAX_COMMAND_CHARS}")
            session._opaque_marker(command[:200], (), "command too large to analyze")
        elif "\x00" in command:
            session.action_fact("shell.binary", "the command contains NUL bytes, which bash cannot run as written")
            session._opaque_marker(command[:200], (), "command contains NUL bytes")
        else:
            session.analyze_text(command, ())
    except _Budget as exc:
        session.action_fact("shell.too_complex", str(exc))
        session._opaque_marker(command[:200], (), str(exc))
    except RecursionError:
        session.action_fact("shell.too_complex", "the command is nested too deeply to analyze")
        session._opaque_marker(command[:200], (), "nested too deeply")
    except Exception as exc:  # never raise; opaque is not safe and the policy sees it
        session._opaque_marker(command[:200], (), f"shell analyzer failed: {type(exc).__name__}: {exc}")
    return _finish(session)


def _finish(session: Session) -> Analysis:
    from warden.core.analyze.netflow import action_flows

    env, ws = session.env, session.workspace
    for info in session.commands:
        if not info.paths:
            continue
        seen = {(f.kind, f.detail) for f in info.facts}
        for ref in info.paths:
            for f in classify(ref, env, ws):
                if (f.kind, f.detail) in seen:
                    continue  # fs.critical is decided per operation, not per path
                seen.add((f.kind, f.detail))
                info.facts.append(f)
    action_flows(session)
    if not session.commands and not session.facts:
        # an empty command or only comments: nothing runs
        session.commands.append(CommandInfo(program=":", argv=(":",), raw=""))
    analysis = Analysis(commands=session.commands, facts=session.facts)
    for info in session.commands:
        for h in info.hosts:
            if h not in analysis.hosts:
                analysis.hosts.append(h)
    return analysis


__all__ = ["DECODE", "NET", "SECRET", "Session", "analyze_shell"]
