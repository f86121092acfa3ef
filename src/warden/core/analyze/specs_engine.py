"""Program knowledge as data: one generic engine over the spec files in ``specs/programs/``.

A spec names programs and lists rules; each rule says which invocations it matches and the
fact they get. Matching looks at the invocation's *words* (positional arguments, after the
options the spec says take a value), its flags and option values:

```yaml
programs: [gsutil]                     # names (basename of the program)
value_options: [-o, -h, -u]            # options whose value is the next argument
rules:
  - words: [rm]                        # positional prefix; "a|b" alternatives, "*" any word
    flags: [-r, -R, --recursive]       # at least one (short flags also inside clusters: -rf)
    without: [--dry-run]               # none of these
    options: {-X|--method: [DELETE]}   # an option with one of these values
    contains: ["/git/refs/"]           # some argument contains one of these
    any_word: ["publish*"]             # some positional word matches one of these globs (gradle tasks)
    only_local: true                   # every host or URL among the words is this machine
    fact: cloud.destroy
    detail: deletes objects recursively
    reads: operands                    # also read the local operands (not URLs) as paths
    clear: [pkg.publish]               # facts the code analyzers set that this use does not have (--dry-run)
examples:                              # checked by tests/test_program_specs.py
  - {cmd: "gsutil rm -r gs://b", has: cloud.destroy}
  - {cmd: "gsutil ls gs://b", lacks: cloud.destroy}
```

Every rule that matches adds its fact (so one invocation can be a publish *and* an upload).
``fact: program.read_only`` marks invocations the recommended policy may allow for a program
it does not list; a spec with ``closed: true`` adds ``program.unknown_use`` (ask) when no rule
matched, so allowing its read-only uses never allows a use nobody described.
"""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from warden.core.analyze.invocation import Cmd
from warden.core.facts import Access


@dataclass(frozen=True)
class Rule:
    words: tuple[frozenset[str], ...]
    flags: tuple[str, ...]
    without: tuple[str, ...]
    options: tuple[tuple[frozenset[str], frozenset[str]], ...]
    contains: tuple[str, ...]
    fact: str
    detail: str
    reads: str
    any_word: tuple[str, ...] = ()
    only_local: bool = False
    clear: tuple[str, ...] = ()


@dataclass(frozen=True)
class Spec:
    name: str
    programs: tuple[str, ...]
    value_options: frozenset[str]
    rules: tuple[Rule, ...]
    closed: bool
    examples: tuple[dict[str, Any], ...]


def _rule(raw: dict[str, Any]) -> Rule:
    opts = tuple((frozenset(str(k).split("|")), frozenset(str(v) for v in vals))
                 for k, vals in (raw.get("options") or {}).items())
    return Rule(
        words=tuple(frozenset(str(w).split("|")) for w in raw.get("words") or ()),
        flags=tuple(raw.get("flags") or ()), without=tuple(raw.get("without") or ()), options=opts,
        contains=tuple(raw.get("contains") or ()), fact=str(raw["fact"]),
        detail=str(raw.get("detail") or raw["fact"]), reads=str(raw.get("reads") or ""),
        any_word=tuple(raw.get("any_word") or ()), only_local=bool(raw.get("only_local")),
        clear=tuple(raw.get("clear") or ()))


@cache
def load_specs() -> dict[str, Spec]:
    """Every spec, by program name. Parsed once per process."""
    out: dict[str, Spec] = {}
    folder = resources.files("warden.core.analyze.specs").joinpath("programs")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        raw = yaml.safe_load(entry.read_text())
        spec = Spec(name=entry.name[:-5], programs=tuple(raw["programs"]),
                    value_options=frozenset(raw.get("value_options") or ()),
                    rules=tuple(_rule(r) for r in raw["rules"]), closed=bool(raw.get("closed")),
                    examples=tuple(raw.get("examples") or ()))
        for p in spec.programs:
            out.setdefault(p, spec)
    return out


def _has_flag(args: list[str], flag: str) -> bool:
    for a in args:
        if a == flag or (flag.startswith("--") and a.startswith(flag + "=")):
            return True
        if len(flag) == 2 and flag[0] == "-" and a.startswith("-") and not a.startswith("--") and flag[1] in a[1:] \
                and a[1:].isalpha():
            return True
    return False


def _words(args: list[str], value_options: frozenset[str]) -> list[str]:
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a == "--":
            continue
        if a.startswith("-") and len(a) > 1:
            skip = a in value_options
            continue
        out.append(a)
    return out


def _option_value(args: list[str], names: frozenset[str]) -> list[str]:
    vals = []
    for i, a in enumerate(args):
        if a in names and i + 1 < len(args):
            vals.append(args[i + 1])
        for n in names:
            if a.startswith(n + "=") or (len(n) == 2 and a.startswith(n) and len(a) > 2 and not n.startswith("--")):
                vals.append(a.split("=", 1)[1] if "=" in a else a[len(n):])
    return vals


def matches(rule: Rule, args: list[str], words: list[str]) -> bool:
    if len(words) < len(rule.words):
        return False
    for want, got in zip(rule.words, words, strict=False):
        if "*" not in want and got not in want:
            return False
    if rule.flags and not any(_has_flag(args, f) for f in rule.flags):
        return False
    if any(_has_flag(args, f) for f in rule.without):
        return False
    for names, values in rule.options:
        if not any(v.upper() in {x.upper() for x in values} for v in _option_value(args, names)):
            return False
    if rule.any_word and not any(fnmatch.fnmatchcase(w, g) for w in words for g in rule.any_word):
        return False
    if rule.only_local and not _all_local(words):
        return False
    return not (rule.contains and not any(c in a for a in args for c in rule.contains))


LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]", "::1", "0.0.0.0", "127.0.1.1")


def _all_local(words: list[str]) -> bool:
    """Every word naming a host (``h:port``, a URL) names this machine, and at least one does."""
    hosts = 0
    for w in words:
        h = w.split("://", 1)[1] if "://" in w else w
        for prefix in ("TCP:", "TCP4:", "TCP6:", "UDP:", "tcp:", "udp:"):  # socat address forms
            h = h.removeprefix(prefix)
        h = h.split("/", 1)[0].rsplit("@", 1)[-1]
        if ":" not in h and "://" not in w:
            continue
        hosts += 1
        if not h.startswith(LOCAL_HOSTS):
            return False
    return hosts > 0


RUNNERS = frozenset({"npx", "pnpx", "bunx"})  # run a project tool by name: `npx lerna publish`


def runner_target(cmd: Cmd) -> tuple[str, list[str]]:
    """(tool, its arguments): the program itself, or what ``npx``/``pnpx``/``bunx`` runs."""
    name, args = posixpath.basename(cmd.program), cmd.args
    if name in RUNNERS:
        rest = [a for a in args if not a.startswith("-")]
        if rest:
            tool = rest[0].split("@", 1)[0] if not rest[0].startswith("@") else rest[0]
            return tool, args[args.index(rest[0]) + 1:]
    return name, args


def apply_specs(cmd: Cmd, name: str, args: list[str]) -> None:
    """Add the facts of every rule of ``name``'s spec that this invocation matches."""
    spec = load_specs().get(name)
    if spec is None:
        return
    words = _words(args, spec.value_options)
    matched = False
    for rule in spec.rules:
        if not matches(rule, args, words):
            continue
        matched = True
        if rule.clear:
            cmd.info.facts[:] = [f for f in cmd.info.facts if f.kind not in rule.clear]
        cmd.fact(rule.fact, f"{name}: {rule.detail}", spec=spec.name)
        if rule.reads == "operands":
            for w in words[len(rule.words):]:
                if "://" not in w and ":" not in w.split("/", 1)[0]:
                    cmd.path(w, Access.READ)
    if spec.closed and not matched:
        cmd.fact("program.unknown_use", f"{name} {' '.join(words[:2])}: a use its spec "
                 f"({spec.name}) does not describe")
