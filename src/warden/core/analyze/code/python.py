"""Python front end: the standard ``ast``, with import aliases, constants and path arithmetic.

Flow-insensitive and bounded: names bound anywhere (assignments, ``for`` targets,
comprehensions, ``with ... as``) keep every value they may take, then every call is matched
against the Python part of ``specs/code_apis.yaml``. ``os.path.expanduser``, ``Path.home()``,
``os.environ['HOME']``, ``os.path.join``, ``/`` on paths, ``+`` and f-strings are evaluated;
``sys.argv``, input and anything else unknown stays unknown.
"""

from __future__ import annotations

import ast
from typing import Any

from warden.core.analyze.code import MAX_NODES, apis
from warden.core.analyze.code.effects import Effects, apply, concat, join_path, text
from warden.core.analyze.words import UNKNOWN


class Mod(str):
    """A module, class or callable known by its canonical dotted name."""


class PathVal(str):
    """A pathlib path."""


class EnvMap:
    """``os.environ`` itself."""


ENV = EnvMap()
_WRITE_MODES = ("w", "a", "x", "+")
_HOME_CALLS = {"os.path.expanduser", "posixpath.expanduser", "os.path.expandvars"}
_JOIN_CALLS = {"os.path.join", "posixpath.join", "os.path.abspath", "os.path.realpath", "os.path.normpath"}
_PATH_CLASSES = {"pathlib.Path", "pathlib.PosixPath", "pathlib.PurePath", "pathlib.PurePosixPath"}
_PATH_METHODS = {"read_text": "read 0", "read_bytes": "read 0", "open": "read 0", "write_text": "write 0",
                 "write_bytes": "write 0", "unlink": "delete 0", "rmdir": "delete 0", "touch": "write 0",
                 "chmod": "write 0", "mkdir": "write 0", "symlink_to": "write 0", "rename": "move 0 1",
                 "replace": "move 0 1", "iterdir": "read 0", "rglob": "read 0", "glob": "read 0"}


class _Py:
    def __init__(self, fx: Effects) -> None:
        self.fx = fx
        self.home = fx.home
        self.names: dict[str, list[Any]] = {}
        self.table = apis()["python"]
        self.parents: dict[int, ast.AST] = {}

    # --- binding ---------------------------------------------------------------------------
    def bind(self, target: ast.AST, value: Any) -> None:
        if isinstance(target, ast.Name):
            vals = self.names.setdefault(target.id, [])
            if len(vals) < 8 and value not in vals:
                vals.append(value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for i, t in enumerate(target.elts):
                self.bind(t, value[i] if isinstance(value, list) and i < len(value) else None)

    def name(self, ident: str) -> Any:
        vals = self.names.get(ident)
        if vals:
            return vals[0]  # the first value bound; open() and friends look at all of them
        return None

    def all_values(self, ident: str) -> list[Any]:
        return self.names.get(ident) or [None]

    # --- evaluation ------------------------------------------------------------------------
    def qual(self, node: ast.AST) -> str | None:
        """The canonical dotted name of a callee or attribute chain."""
        if isinstance(node, ast.Name):
            v = self.name(node.id)
            if isinstance(v, Mod):
                return str(v)
            if v is None:
                return node.id
            if isinstance(v, PathVal):
                return "pathlib.Path()"
            return None
        if isinstance(node, ast.Attribute):
            base = self.qual(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call):
            fn = self.qual(node.func)
            if fn in ("__import__", "importlib.import_module") and node.args:
                t = text(self.eval(node.args[0]))
                return t if t and UNKNOWN not in t else None
            if fn == "getattr" and len(node.args) >= 2:
                base, attr = self.qual(node.args[0]), text(self.eval(node.args[1]))
                return f"{base}.{attr}" if base and attr and UNKNOWN not in attr else None
            if fn in ("socket.socket", "socket.create_connection"):
                return "socket.socket"
        return None

    def eval(self, node: ast.AST | None, depth: int = 0) -> Any:
        if node is None or depth > 40:
            return None
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                return node.value
            if isinstance(node.value, bytes):
                return node.value.decode("latin-1")
            return None
        if isinstance(node, ast.JoinedStr):
            out = ""
            for part in node.values:
                if isinstance(part, ast.Constant):
                    out += str(part.value)
                elif isinstance(part, ast.FormattedValue):
                    out = concat(out, self.eval(part.value, depth + 1))
            return out
        if isinstance(node, ast.BinOp):
            left, right = self.eval(node.left, depth + 1), self.eval(node.right, depth + 1)
            if isinstance(node.op, ast.Add) and (isinstance(left, str) or isinstance(right, str)):
                return concat(left, right)
            if isinstance(node.op, ast.Div) and isinstance(left, PathVal):
                return PathVal(join_path([left, right]))
            if isinstance(node.op, ast.Mod) and isinstance(left, str):
                return left.replace("%s", UNKNOWN)
            return None
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self.eval(e, depth + 1) for e in node.elts[:64]]
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.Subscript):
            base = self.eval(node.value, depth + 1)
            if base is ENV:
                return self._env_var(text(self.eval(node.slice, depth + 1)))
            return None
        if isinstance(node, ast.Attribute):
            q = self.qual(node)
            if q == "os.environ":
                return ENV
            if (q and q in self.table) or (q and q.split(".")[0] in ("os", "shutil", "subprocess", "sys", "pathlib")):
                return Mod(q)
            base = self.eval(node.value, depth + 1)
            if isinstance(base, PathVal) and node.attr in ("parent",):
                return PathVal(base.rsplit("/", 1)[0] or "/")
            return None
        if isinstance(node, ast.Call):
            return self.call_value(node, depth)
        return None

    def _env_var(self, name: str | None) -> Any:
        if name == "HOME":
            return self.home
        if name in ("PWD",):
            return self.fx.cmd.session.cwds[0] or UNKNOWN
        return UNKNOWN

    def call_value(self, node: ast.Call, depth: int) -> Any:
        fn = self.qual(node.func)
        args = [self.eval(a, depth + 1) for a in node.args[:16]]
        if fn in _HOME_CALLS and args:
            t = text(args[0])
            if t is not None and (t == "~" or t.startswith("~/")):
                return self.home + t[1:]
            if t is not None and t.startswith(("$HOME", "${HOME}")):
                return self.home + t.split("}", 1)[-1] if t.startswith("${") else self.home + t[5:]
            return t
        if fn in _JOIN_CALLS:
            return join_path(args) if args else None
        if fn in ("os.getenv", "os.environ.get"):
            return self._env_var(text(args[0]) if args else None)
        if fn in ("os.getcwd", "os.path.curdir"):
            return self.fx.cmd.session.cwds[0] or UNKNOWN
        if fn in ("os.listdir", "os.scandir"):
            return [UNKNOWN]
        if fn in ("glob.glob", "glob.iglob"):
            return [args[0]] if args and text(args[0]) else [UNKNOWN]
        if fn in ("pathlib.Path.home", "os.path.expanduser.home"):
            return PathVal(self.home)
        if fn in ("pathlib.Path.cwd",):
            return PathVal(self.fx.cmd.session.cwds[0] or UNKNOWN)
        if fn in _PATH_CLASSES:
            return PathVal(join_path(args)) if args else PathVal(".")
        if isinstance(node.func, ast.Attribute):
            base = self.eval(node.func.value, depth + 1)
            if isinstance(base, PathVal):
                attr = node.func.attr
                if attr == "expanduser":
                    return PathVal(self.home + base[1:] if base == "~" or base.startswith("~/") else base)
                if attr in ("resolve", "absolute", "with_suffix"):
                    return PathVal(base)
                if attr == "joinpath":
                    return PathVal(join_path([base, *args]))
            if isinstance(base, str) and node.func.attr in ("format", "replace", "strip", "lower"):
                return base if node.func.attr != "format" else base.replace("{}", UNKNOWN)
            if isinstance(base, str) and node.func.attr == "decode":
                return base
        if fn in ("str", "repr"):
            return args[0] if args else None
        if fn in ("dict", "json.dumps", "str", "repr") and any(a is ENV for a in args):
            return None
        return None

    # --- effects ---------------------------------------------------------------------------
    def handle(self, node: ast.Call) -> None:
        fn = self.qual(node.func)
        args = [self.eval(a) for a in node.args[:16]]
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        if any(a is ENV for a in args) or any(self.eval(v) is ENV for v in kw.values()):
            self.fx.env_dump = True
        spec = self.table.get(fn) if fn else None
        if spec is None and isinstance(node.func, ast.Attribute):
            base = self.eval(node.func.value)
            attr = node.func.attr
            if isinstance(base, PathVal) and attr in _PATH_METHODS:
                method_effect, *positions = _PATH_METHODS[attr].split()
                mode = text(args[0]) if args else text(self.eval(kw.get("mode")))
                apply(self.fx, method_effect, tuple(int(p) for p in positions), [base, *args],
                      writes=bool(mode and any(m in mode for m in _WRITE_MODES)))
                return
            if attr in ("connect", "connect_ex") and args:
                target = args[0]
                self.fx.connect(target[0] if isinstance(target, list) and target else None)
                return
            if attr == "listen":
                self.fx.listen()
                return
        if fn is None:
            return
        if spec is None:
            return
        effect, pos = spec
        mode = text(args[1]) if len(args) > 1 else text(self.eval(kw.get("mode")))
        upload = any(k in kw for k in ("data", "json", "files")) or bool(
            fn == "requests.request" and args and text(args[0]) in ("POST", "PUT", "PATCH", "DELETE"))
        if fn in ("open", "io.open", "codecs.open") and node.args and isinstance(node.args[0], ast.Name):
            for v in self.all_values(node.args[0].id):
                apply(self.fx, effect, pos, [v, *args[1:]], writes=bool(mode and any(m in mode for m in _WRITE_MODES)))
            return
        apply(self.fx, effect, pos, args, writes=bool(mode and any(m in mode for m in _WRITE_MODES)), upload=upload)

    # --- driver ----------------------------------------------------------------------------
    def run(self, tree: ast.AST) -> None:
        nodes = []
        for count, node in enumerate(ast.walk(tree)):
            if count > MAX_NODES:
                self.fx.opaque("is too large to analyze fully")
                break
            nodes.append(node)
            for child in ast.iter_child_nodes(node):
                self.parents[id(child)] = node
        for node in nodes:  # pass 1: what names stand for
            if isinstance(node, ast.Import):
                for a in node.names:
                    self.bind(ast.Name(a.asname or a.name.split(".")[0]), Mod(a.name if a.asname else a.name.split(".")[0]))
            elif isinstance(node, ast.ImportFrom) and node.module:
                for a in node.names:
                    self.bind(ast.Name(a.asname or a.name), Mod(f"{node.module}.{a.name}"))
        for _ in range(2):  # twice, so names bound from other names settle
            for node in nodes:
                if isinstance(node, ast.Assign):
                    v = self.eval(node.value)
                    for t in node.targets:
                        self.bind(t, v)
                elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
                    self.bind(node.target, self.eval(node.value))
                elif isinstance(node, (ast.For, ast.comprehension)):
                    it = self.eval(node.iter)
                    self.bind(node.target, it[0] if isinstance(it, list) and it else None)
                elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                    self.bind(node.optional_vars, self.eval(node.context_expr))
        for node in nodes:  # pass 2: what the calls do
            if isinstance(node, ast.Call):
                self.handle(node)
            elif isinstance(node, ast.Attribute) and self.qual(node) == "os.environ":
                parent = self.parents.get(id(node))
                if isinstance(parent, ast.Subscript) or (isinstance(parent, ast.Attribute) and parent.attr in (
                        "get", "setdefault", "pop", "__contains__", "keys", "update")) or isinstance(parent, ast.Compare):
                    continue
                if (isinstance(parent, ast.Call) and node in parent.args) or (isinstance(parent, ast.Attribute) and parent.attr in ("items", "copy", "values", "__str__")):
                    self.fx.env_dump = True


def run_python(fx: Effects, code: str) -> bool:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    try:
        _Py(fx).run(tree)
    except RecursionError:
        fx.opaque("is nested too deeply to analyze")
    return True
