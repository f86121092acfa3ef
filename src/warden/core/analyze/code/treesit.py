"""JavaScript/TypeScript, Ruby, PHP and Lua front end over their tree-sitter grammars.

One evaluator for the four languages, told apart by small node-type tables: it binds names
(``const fs = require('fs')``, ``import * as fs from 'fs'``, ``{execSync} = require(...)``,
``$h = getenv('HOME')``, ``local p = ...``), evaluates strings, interpolation, concatenation,
``path.join``/``File.join`` and the home directory, and matches each call's canonical name
against the language's part of ``specs/code_apis.yaml``. Nodes visited are capped; a grammar
that is not installed or code that does not parse leaves the caller to the substring scan.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from warden.core.analyze.code import MAX_NODES, apis
from warden.core.analyze.code.effects import Effects, apply, concat, join_path, printf_format, text
from warden.core.analyze.words import UNKNOWN


class Mod(str):
    """A module or object known by its canonical dotted name."""


class EnvMap:
    """The whole environment (``process.env``, ``ENV``, ``$_ENV``)."""


ENV = EnvMap()
STRINGS = {"string", "template_string", "encapsed_string", "string_literal", "raw_string", "heredoc"}
STRING_PARTS = {"string_fragment", "string_content", "content", "escape_sequence"}
INTERP = {"template_substitution", "interpolation", "variable_name", "simple_variable"}
IDENT = {"identifier", "property_identifier", "constant", "name", "shorthand_property_identifier",
         "type_identifier"}
CALLS = {"call_expression", "new_expression", "call", "function_call_expression", "member_call_expression",
         "scoped_call_expression", "object_creation_expression", "function_call", "nullsafe_member_call_expression"}
CONCAT = {"+", ".", ".."}
HOME_NAMES = {"os.homedir", "Dir.home", "process.env.HOME", "Bun.env.HOME", "Deno.env.get.HOME", "ENV.HOME",
              "getenv.HOME", "os.getenv.HOME", "_SERVER.HOME", "_ENV.HOME", "process.env.USERPROFILE",
              "Etc.getpwuid.dir", "os.userInfo.homedir"}
ENV_NAMES = {"process.env", "ENV", "Bun.env", "_ENV", "_SERVER", "Deno.env.toObject", "ENV.to_h", "ENV.to_hash",
             "getenv", "ENV.to_a", "ENV.inspect", "process.env.toString"}
JOINS = {"path.join", "path.resolve", "path.posix.join", "File.join", "Pathname.new", "path.normalize",
         "File.expand_path", "File.absolute_path"}
ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", "'": "'", '"': '"', "$": "$", "`": "`"}


@cache
def _parser(family: str, ts_flavour: bool = False) -> Any:
    import importlib

    import tree_sitter as ts

    # (module, function) per grammar; the typescript and php wheels ship several languages each
    module, func = {("javascript", False): ("tree_sitter_javascript", "language"),
                    ("javascript", True): ("tree_sitter_typescript", "language_typescript"),
                    ("ruby", False): ("tree_sitter_ruby", "language"),
                    ("php", False): ("tree_sitter_php", "language_php"),
                    ("lua", False): ("tree_sitter_lua", "language")}[(family, ts_flavour)]
    return ts.Parser(ts.Language(getattr(importlib.import_module(module), func)()))


class _TS:
    def __init__(self, fx: Effects, src: bytes) -> None:
        self.fx = fx
        self.src = src
        self.names: dict[str, Any] = {}
        self.table = apis()[fx.lang]
        self.budget = MAX_NODES

    def txt(self, node: Any) -> str:
        return self.src[node.start_byte:node.end_byte].decode("utf-8", "replace")

    # --- names -------------------------------------------------------------------------------
    def qual(self, node: Any, depth: int = 0) -> str | None:
        if node is None or depth > 30:
            return None
        t = node.type
        if t in IDENT:
            name = self.txt(node)
            bound = self.names.get(name)
            if isinstance(bound, Mod):
                return str(bound)
            return None if bound is not None else name
        if t in ("variable_name",):  # PHP $x
            name = self.txt(node).lstrip("$")
            bound = self.names.get("$" + name)
            return str(bound) if isinstance(bound, Mod) else name if name in ("_ENV", "_SERVER") else None
        if t in ("scope_resolution", "qualified_name"):
            return self.txt(node).replace("\\", "::")
        if t in ("member_expression", "dot_index_expression", "method_index_expression", "member_access_expression"):
            obj = node.child_by_field_name("object") or node.child_by_field_name("table")
            prop = (node.child_by_field_name("property") or node.child_by_field_name("field")
                    or node.child_by_field_name("method") or node.child_by_field_name("name"))
            base = self.qual(obj, depth + 1)
            return f"{base}.{self.txt(prop)}" if base and prop is not None else None
        if t == "call" and node.child_by_field_name("arguments") is None:  # Ruby `Dir.home`, `ENV.to_h`
            recv, meth = node.child_by_field_name("receiver"), node.child_by_field_name("method")
            base = self.qual(recv, depth + 1) if recv is not None else None
            return f"{base}.{self.txt(meth)}" if base and meth is not None else None
        if t in ("call_expression",):
            fn = node.child_by_field_name("function")
            if fn is not None and self.txt(fn) == "require":
                args = self.arg_nodes(node)
                mod = text(self.eval(args[0], depth + 1)) if args else None
                if mod and UNKNOWN not in mod:
                    return mod.removeprefix("node:").replace("/", ".")
        if t == "function_call":  # Lua require("socket")
            fn = node.child_by_field_name("name")
            if fn is not None and self.txt(fn) == "require":
                args = self.arg_nodes(node)
                mod = text(self.eval(args[0], depth + 1)) if args else None
                if mod and UNKNOWN not in mod:
                    return mod
        if t in ("parenthesized_expression", "await_expression"):
            inner = node.named_children[-1] if node.named_children else None
            return self.qual(inner, depth + 1)
        return None

    def callee(self, node: Any) -> str | None:
        t = node.type
        if t == "call":
            recv, meth = node.child_by_field_name("receiver"), node.child_by_field_name("method")
            if meth is None:
                return None
            if recv is None:
                return self.txt(meth)
            base = self.qual(recv)
            return f"{base}.{self.txt(meth)}" if base else None
        if t in ("member_call_expression", "nullsafe_member_call_expression", "scoped_call_expression"):
            obj = node.child_by_field_name("object") or node.child_by_field_name("scope")
            name = node.child_by_field_name("name")
            base = self.qual(obj)
            return f"{base}.{self.txt(name)}" if base and name is not None else None
        fn = (node.child_by_field_name("function") or node.child_by_field_name("constructor")
              or node.child_by_field_name("name"))
        if fn is None and t == "object_creation_expression":
            fn = next((c for c in node.named_children if c.type in ("name", "qualified_name")), None)
        if fn is None:
            return None
        q = self.qual(fn)
        if q and t in ("new_expression", "object_creation_expression") and fn.type == "scope_resolution":
            q += ".new"
        return q

    def arg_nodes(self, node: Any) -> list[Any]:
        args = node.child_by_field_name("arguments")
        if args is None:
            return []
        out = []
        for c in args.named_children:
            if c.type == "argument" and c.named_children:
                c = c.named_children[0]
            if c.type in ("comment",):
                continue
            out.append(c)
        return out[:16]

    # --- values ------------------------------------------------------------------------------
    def eval(self, node: Any, depth: int = 0) -> Any:
        if node is None or depth > 30:
            return None
        t = node.type
        if t in STRINGS:
            out = ""
            for c in node.named_children:
                if c.type in STRING_PARTS:
                    s = self.txt(c)
                    out += ESCAPES.get(s[1:], s[1:]) if c.type == "escape_sequence" and len(s) == 2 else s
                elif c.type in INTERP or c.type == "interpolation":
                    inner = c if c.type in ("variable_name",) else (c.named_children[0] if c.named_children else None)
                    out = concat(out, self.eval(inner, depth + 1))
            if not node.named_children and t == "string":
                s = self.txt(node)
                out = s[1:-1] if len(s) >= 2 and s[0] in "'\"" else out
            return out
        if t == "binary_expression" or t == "binary":
            op = node.child_by_field_name("operator")
            opt = self.txt(op) if op is not None else next((self.txt(c) for c in node.children if not c.is_named), "")
            if opt in CONCAT:
                left = self.eval(node.child_by_field_name("left"), depth + 1)
                right = self.eval(node.child_by_field_name("right"), depth + 1)
                if isinstance(left, str) or isinstance(right, str):
                    return concat(left, right)
            return None
        if t in ("array", "array_creation_expression", "table_constructor"):
            vals = []
            for c in node.named_children[:64]:
                if c.type in ("array_element_initializer", "field") and c.named_children:
                    c = c.named_children[-1]
                vals.append(self.eval(c, depth + 1))
            return vals
        if t in ("parenthesized_expression", "await_expression", "as_expression", "non_null_expression"):
            return self.eval(node.named_children[0], depth + 1) if node.named_children else None
        if t in ("subscript_expression", "element_reference", "bracket_index_expression"):
            obj = node.child_by_field_name("object") or node.child_by_field_name("table") or (
                node.named_children[0] if node.named_children else None)
            idx = node.child_by_field_name("index") or node.child_by_field_name("field") or (
                node.named_children[1] if len(node.named_children) > 1 else None)
            base = self.eval(obj, depth + 1)
            key = text(self.eval(idx, depth + 1))
            if base is ENV:
                return self.fx.home if key == "HOME" else UNKNOWN
            return None
        if t in CALLS:
            return self.call_value(node, depth)
        q = self.qual(node, depth + 1)
        if q in HOME_NAMES:
            return self.fx.home
        if q in ENV_NAMES:
            return ENV
        if q and q.startswith(("process.env.", "Bun.env.")):
            return UNKNOWN
        if t in IDENT or t == "variable_name":
            key = self.txt(node) if t != "variable_name" else "$" + self.txt(node).lstrip("$")
            v = self.names.get(key)
            if v is None and t == "variable_name" and key[1:].isupper() and key[1:].isidentifier():
                return "${" + key[1:] + "}"  # unassigned: most likely meant as the shell's variable
            return None if isinstance(v, Mod) else v
        if t in ("number", "integer", "true", "false", "null", "nil"):
            return None
        return None

    def call_value(self, node: Any, depth: int) -> Any:
        fn = self.callee(node)
        if fn is None:
            return None
        args = [self.eval(a, depth + 1) for a in self.arg_nodes(node)]
        if fn in HOME_NAMES:
            return self.fx.home
        if fn in ("getenv", "os.getenv", "Deno.env.get", "ENV.fetch"):
            key = text(args[0]) if args else None
            if not args and fn == "getenv":
                return ENV
            return self.fx.home if key == "HOME" else UNKNOWN
        if fn in ("process.cwd", "Dir.pwd", "getcwd", "Deno.cwd"):
            return self.fx.cmd.session.cwds[0] or UNKNOWN
        if fn in JOINS:
            if fn in ("File.expand_path",) and args and isinstance(args[0], str) and args[0].startswith("~"):
                return self.fx.home + args[0][1:]
            return join_path(args) if args else None
        if fn in ("sprintf", "format", "Kernel.format", "string.format", "util.format"):
            return printf_format(args[0]) if args else None
        if fn in ("URI", "URI.parse", "new URL", "URL"):
            return args[0] if args else None
        if fn in ("readdirSync", "fs.readdirSync", "Dir.entries", "Dir.children", "scandir", "Dir.glob", "glob"):
            return [UNKNOWN] if fn not in ("Dir.glob", "glob") else [args[0] if args else UNKNOWN]
        if fn.endswith(".to_s") or fn.endswith(".toString"):
            return None
        return None

    # --- walking -----------------------------------------------------------------------------
    def bind(self, name_node: Any, value_node: Any) -> None:
        if name_node is None:
            return
        t = name_node.type
        if t == "object_pattern":  # const {execSync, spawn: sp} = require('child_process')
            mod = self.qual(value_node) if value_node is not None else None
            for c in name_node.named_children:
                if c.type == "shorthand_property_identifier_pattern" and mod:
                    self.names[self.txt(c)] = Mod(f"{mod}.{self.txt(c)}")
                elif c.type == "pair_pattern" and mod:
                    key, val = c.child_by_field_name("key"), c.child_by_field_name("value")
                    if key is not None and val is not None:
                        self.names[self.txt(val)] = Mod(f"{mod}.{self.txt(key)}")
            return
        if t in ("variable_list",):
            name_node = name_node.named_children[0] if name_node.named_children else None
            if name_node is None:
                return
            t = name_node.type
        if t in ("expression_list",):
            return
        key = self.txt(name_node) if t != "variable_name" else "$" + self.txt(name_node).lstrip("$")
        if t not in IDENT and t not in ("variable_name", "identifier"):
            return
        if value_node is None:
            return
        if value_node.type in ("expression_list",) and value_node.named_children:
            value_node = value_node.named_children[0]
        mod = self.qual(value_node) if value_node.type in ("call_expression", "member_expression",
                                                           "dot_index_expression") else None
        if value_node.type == "call_expression" and mod and not self.callee_is_call(value_node):
            self.names.setdefault(key, Mod(mod))
            return
        if mod and value_node.type != "call_expression":
            if mod.split(".")[0] in ("require",):
                return
        v = self.eval(value_node)
        if v is not None:
            self.names.setdefault(key, v)
        elif mod:
            self.names.setdefault(key, Mod(mod))

    def callee_is_call(self, node: Any) -> bool:
        fn = node.child_by_field_name("function")
        return not (fn is not None and self.txt(fn) == "require")

    def walk(self, root: Any) -> list[Any]:
        out, stack = [], [root]
        while stack:
            node = stack.pop()
            self.budget -= 1
            if self.budget < 0:
                self.fx.opaque("is too large to analyze fully")
                break
            out.append(node)
            stack.extend(reversed(node.named_children))
        return out

    def run(self, root: Any) -> None:
        nodes = self.walk(root)
        for node in nodes:
            t = node.type
            if t == "variable_declarator":
                self.bind(node.child_by_field_name("name"), node.child_by_field_name("value"))
            elif t in ("assignment_expression", "assignment"):
                self.bind(node.child_by_field_name("left"), node.child_by_field_name("right"))
            elif t == "assignment_statement":
                names = next((c for c in node.named_children if c.type == "variable_list"), None)
                vals = next((c for c in node.named_children if c.type == "expression_list"), None)
                self.bind(names, vals)
            elif t == "import_statement":
                self.imports(node)
        for node in nodes:
            t = node.type
            if t in CALLS:
                self.handle(node)
            elif t in ("subshell", "shell_command_expression", "command"):
                if t == "command" and self.fx.lang != "ruby":
                    continue
                self.fx.shell(self.eval_parts(node))
            elif t in ("member_expression", "call", "variable_name", "constant", "identifier", "scope_resolution"):
                if self.eval(node) is ENV and self.env_whole(node):
                    self.fx.env_dump = True

    def env_whole(self, node: Any) -> bool:
        parent = node.parent
        if parent is None:
            return False
        if parent.type in ("subscript_expression", "element_reference", "bracket_index_expression"):
            return False
        if parent.type in ("member_expression", "call") and parent.child_by_field_name("object") == node:
            return self.eval(parent) is ENV
        if parent.type == "call" and parent.child_by_field_name("receiver") == node:
            meth = parent.child_by_field_name("method")
            return meth is not None and self.txt(meth) in ("to_h", "to_hash", "to_a", "inspect", "each", "map")
        return parent.type in ("arguments", "argument_list", "argument", "pair", "echo_statement", "spread_element",
                               "shorthand_property_identifier", "template_substitution", "interpolation")

    def eval_parts(self, node: Any) -> str:
        out = ""
        for c in node.named_children:
            if c.type in STRING_PARTS:
                out += self.txt(c)
            else:
                out = concat(out, self.eval(c.named_children[0] if c.type == "interpolation" and c.named_children
                                            else c))
        if not node.named_children:
            s = self.txt(node)
            out = s[1:-1] if s[:1] == "`" else s
        return out

    def imports(self, node: Any) -> None:
        src = node.child_by_field_name("source")
        mod = text(self.eval(src)) if src is not None else None
        if not mod or UNKNOWN in mod:
            return
        mod = mod.removeprefix("node:").replace("/", ".")
        for c in self.walk_small(node):
            if c.type == "namespace_import" or (c.type == "import_clause" and c.named_children
                                               and c.named_children[0].type == "identifier"):
                ident = next((x for x in c.named_children if x.type == "identifier"), None)
                if ident is not None:
                    self.names[self.txt(ident)] = Mod(mod)
            elif c.type == "import_specifier":
                name, alias = c.child_by_field_name("name"), c.child_by_field_name("alias")
                if name is not None:
                    self.names[self.txt(alias if alias is not None else name)] = Mod(f"{mod}.{self.txt(name)}")

    def walk_small(self, node: Any) -> list[Any]:
        out: list[Any] = []
        stack = [node]
        while stack and len(out) < 256:
            n = stack.pop()
            out.append(n)
            stack.extend(n.named_children)
        return out

    def handle(self, node: Any) -> None:
        fn = self.callee(node)
        if fn is None:
            return
        arg_nodes = self.arg_nodes(node)
        args = [self.eval(a) for a in arg_nodes]
        if any(a is ENV for a in args):
            self.fx.env_dump = True
        spec = self.table.get(fn) or self.table.get(fn.rsplit(".", 1)[-1] if self.fx.lang in ("php",) else fn)
        if spec is None and "." in fn:
            head, _, meth = fn.rpartition(".")
            bound = self.names.get(head)
            if meth in ("connect", "write") and head in self.names and bound is None:
                return
            # methods of well-known modules reached through other names (fs.promises.rm, fsp.rm)
            spec = self.table.get(f"{head.split('.')[0]}.{meth}") if head.split(".")[0] in ("fs", "child_process") else None
        if spec is None:
            return
        effect, pos = spec
        raw_args = " ".join(self.txt(a) for a in arg_nodes)[:2048]
        mode = text(args[1]) if len(args) > 1 else None
        writes = bool(mode and any(m in mode for m in ("w", "a", "+", "x")))
        upload = effect == "request" and any(k in raw_args for k in ("body", "POST", "PUT", "data:", "json:"))
        if effect in ("connect",) and fn in ("net.connect", "net.createConnection", "tls.connect") and args:
            host = args[1] if len(args) > 1 and isinstance(args[1], str) else None
            self.fx.connect(host)
            return
        if effect == "prog_args" and fn.startswith("child_process.spawn") and len(args) == 1:
            args = [args[0], []]
        apply(self.fx, effect, pos, args, writes=writes, upload=upload)


def run_treesitter(fx: Effects, code: str) -> bool:
    if fx.lang == "php" and "<?" not in code[:64]:
        code = "<?php " + code
    src = code.encode("utf-8", "replace")
    try:
        tree = _parser(fx.lang).parse(src)
        if tree.root_node.has_error and fx.lang == "javascript":
            alt = _parser(fx.lang, True).parse(src)
            if not alt.root_node.has_error:
                tree = alt
    except (ImportError, ValueError):
        return False
    if tree.root_node.has_error:
        fx.cmd.fact("interp.parse_error", f"{fx.via}: the {fx.lang} code does not parse; scanned as text instead")
        return False
    _TS(fx, src).run(tree.root_node)
    return True
