"""The scanning engine: keyword prefilter, windowed RE2 matching, checks, allowlists.

Speed comes from doing little: one Aho-Corasick pass over the lower-cased text finds every
keyword; each hit selects the rules that own that keyword and the *line* around the hit,
and only that line goes to RE2. A rule never runs on text without its keyword, and never
on more than a few kilobytes at a time (huge minified lines are clipped around the hit).
Large inputs stream through :meth:`Ruleset.scan_stream` in chunks that overlap by more
than the longest possible match, so memory stays bounded and no secret is cut in two.
"""

from __future__ import annotations

import re  # only for the bounded surrogate swap below
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Iterable, Iterator, Sequence

from warden.core.secrets.filters import CHECKS, shannon_entropy
from warden.core.secrets.model import Allowlist, Finding, Rule, masked_line_hash

ALLOW_MARKERS = ("warden:allow-secret", "gitleaks:allow")
_BEFORE = 1024  # how far back a clipped window reaches on a huge line
_AFTER = 4096  # ... and forward
_LONG_LINE = _BEFORE + _AFTER
_BLOCK = 72 * 1024  # multi-line (PEM) window: longest block a rule may match
CHUNK = 1 << 20  # streaming chunk (characters)
OVERLAP = _BLOCK + 8 * 1024  # > longest match: nothing straddles a cut unseen
_SURROGATES = re.compile("[\ud800-\udfff]")


class RuleError(ValueError):
    """A rule or allowlist cannot be compiled; the message names it."""


def _compile(pattern: str, what: str) -> Any:
    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would print parse errors to stderr; we raise instead
    try:
        return re2.compile(pattern, options)
    except Exception as exc:  # re2.error and friends
        raise RuleError(f"{what}: invalid RE2 regex {pattern!r}: {exc}") from None


@dataclass(slots=True)
class _Raw:
    start: int
    end: int
    rule: int
    secret: str
    generic: bool


@dataclass
class Ruleset:
    """An immutable-by-convention set of rules plus global allowlists.

    Regexes compile lazily, on the first window that needs them: the hook path pays only
    for the rules whose keywords actually occur.
    """

    rules: tuple[Rule, ...]
    allowlists: tuple[Allowlist, ...] = ()
    allow_markers: tuple[str, ...] = ALLOW_MARKERS
    _regex: list[Any] = field(default_factory=list, repr=False)
    _auto: Any = field(default=None, repr=False)
    _unkeyed: tuple[int, ...] = field(default=(), repr=False)
    _set: Any = field(default=None, repr=False)
    _re_cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise RuleError(f"duplicate rule id {rule.id!r}")
            seen.add(rule.id)
            if rule.window not in ("line", "block", "fragment"):
                raise RuleError(f"rule {rule.id!r}: window must be line, block or fragment")
            for name in rule.checks:
                if name not in CHECKS:
                    raise RuleError(f"rule {rule.id!r}: unknown check {name!r}")
        self._regex = [None] * len(self.rules)
        self._unkeyed = tuple(i for i, r in enumerate(self.rules) if r.regex and not r.keywords)

    # ---- construction helpers ------------------------------------------------------------
    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.rules]

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    def compile_all(self) -> Ruleset:
        """Compile every regex now (validation at load time, warm-up for bulk scans)."""
        for i in range(len(self.rules)):
            self._rx(i)
        for al in self._all_allowlists():
            for p in (*al.regexes, *al.paths):
                self._re(p, "allowlist")
        self._automaton()
        self._unkeyed_set()
        return self

    def _all_allowlists(self) -> Iterator[Allowlist]:
        yield from self.allowlists
        for r in self.rules:
            yield from r.allowlists

    def _rx(self, i: int) -> Any:
        rx = self._regex[i]
        if rx is None:
            rule = self.rules[i]
            rx = self._regex[i] = _compile(rule.regex, f"rule {rule.id!r}")
        return rx

    def _re(self, pattern: str, what: str) -> Any:
        rx = self._re_cache.get(pattern)
        if rx is None:
            rx = self._re_cache[pattern] = _compile(pattern, what)
        return rx

    def _automaton(self) -> Any:
        if self._auto is None:
            import ahocorasick

            owners: dict[str, list[int]] = {}
            for i, rule in enumerate(self.rules):
                for kw in rule.keywords:
                    owners.setdefault(kw.lower(), []).append(i)
            auto = ahocorasick.Automaton()
            for kw, idx in owners.items():
                auto.add_word(kw, (len(kw), tuple(idx)))
            if owners:
                auto.make_automaton()
            self._auto = auto if owners else False
        return self._auto

    def _unkeyed_set(self) -> Any:
        """One RE2 multi-pattern pass for rules without a usable keyword.

        Rules whose only literal is too common to prefilter on ("pat", "sl.") or imported
        rules with no keywords are checked together in a single linear scan; only the
        ones that match anywhere then run on their own.
        """
        if self._set is None and self._unkeyed:
            import re2

            options = re2.Options()
            options.log_errors = False
            rset = re2.Set.SearchSet(options)
            for i in self._unkeyed:
                try:
                    rset.Add(self.rules[i].regex)
                except Exception as exc:
                    raise RuleError(f"rule {self.rules[i].id!r}: invalid RE2 regex: {exc}") from None
            rset.Compile()
            self._set = rset
        return self._set

    # ---- scanning ------------------------------------------------------------------------
    def scan(self, text: str, path: str = "", *, base: int = 0, base_line: int = 1, commit: str = ""
             ) -> list[Finding]:
        """All findings in ``text`` (offsets shifted by ``base``, lines by ``base_line``).

        ``commit`` (history scans) lets allowlists with ``commits`` apply.
        """
        raws = self._resolve(self._candidates(text, path, commit))
        return self._findings(text, raws, path, base, base_line)

    def scan_stream(self, chunks: Iterable[str], path: str = "") -> Iterator[Finding]:
        """Findings over text delivered in pieces, with memory bounded by ~2 chunks."""
        for _piece, findings in self._stream(chunks, path, emit_text=False):
            yield from findings

    def _stream(
        self, chunks: Iterable[str], path: str, *, emit_text: bool, chunk: int = CHUNK, overlap: int = OVERLAP
    ) -> Iterator[tuple[str, list[Finding]]]:
        # buf[:done] was already emitted; findings are accepted once they start before
        # emit_to, which trails the scanned limit by more than any match can be long.
        buf, done, base, base_line = "", 0, 0, 1
        it = iter(chunks)
        final = False
        while not final:
            piece = next(it, None)
            final = piece is None
            if piece:
                buf += piece
                if len(buf) - done < chunk and not final:
                    continue
            if not buf:
                break
            if final:
                limit = emit_to = len(buf)
            else:
                nl = buf.rfind("\n")
                limit = nl + 1 if nl >= done else len(buf)
                emit_to = max(done, limit - overlap)
            region = buf[:limit]
            raws = [r for r in self._resolve(self._candidates(region, path)) if done <= r.start < emit_to]
            for r in raws:
                emit_to = max(emit_to, r.end)
            findings = self._findings(region, raws, path, base, base_line)
            yield (buf[done:emit_to] if emit_text else "", findings)
            if final:
                break
            # Keep the rest from the start of emit_to's line, so the next region sees that line
            # exactly as a whole-text scan would (names before values, "is it a long line").
            # A line longer than that is clipped in both views the same way.
            carry = buf.rfind("\n", 0, emit_to) + 1
            carry = max(carry, emit_to - (_LONG_LINE + _BEFORE))
            base_line += buf.count("\n", 0, carry)
            base += carry
            buf = buf[carry:]
            done = emit_to - carry

    def _candidates(self, text: str, path: str, commit: str = "") -> list[_Raw]:
        rules = self.rules
        out: list[_Raw] = []
        work: dict[tuple[int, int], int] = {}  # (rule, window start) -> window end
        auto = self._automaton()
        n = len(text)
        if auto:
            low = text.lower()
            if len(low) != len(text):  # a few characters lower-case to two ("İ"): keep offsets 1:1
                low = text.encode("ascii", "replace").decode("ascii").lower()
            line_s, line_e = -1, -1
            for end, (klen, owners) in auto.iter(low):
                pos = end - klen + 1
                if pos >= line_e:
                    line_s = text.rfind("\n", 0, pos) + 1
                    line_e = text.find("\n", pos)
                    if line_e == -1:
                        line_e = n
                for i in owners:
                    win = rules[i].window
                    if win == "line":
                        if line_e - line_s <= _LONG_LINE:
                            ws, we = line_s, line_e
                        else:
                            ws, we = max(line_s, pos - _BEFORE), min(line_e, pos + _AFTER)
                    elif win == "block":
                        ws, we = line_s, min(n, pos + _BLOCK)
                    else:
                        ws, we = 0, n
                    key = (i, ws)
                    if work.get(key, -1) < we:
                        work[key] = we
        if self._unkeyed:
            rset = self._unkeyed_set()
            try:
                hits = rset.Match(text)
            except UnicodeEncodeError:
                hits = rset.Match(_SURROGATES.sub("\ufffd", text))
            for k in hits or ():
                work[(self._unkeyed[k], 0)] = n
        last_end: dict[int, int] = {}
        for (i, ws), we in sorted(work.items()):
            # Clipped windows of the same rule on one huge line overlap; skip what was seen.
            ws = max(ws, last_end.get(i, 0) - _BEFORE) if rules[i].window == "line" else ws
            if ws >= we:
                continue
            last_end[i] = we
            self._match(i, text, ws, we, path, out, commit)
        return out

    def _match(self, i: int, text: str, ws: int, we: int, path: str, out: list[_Raw], commit: str = "") -> None:
        rule = self.rules[i]
        if rule.path and not (path and self._re(rule.path, f"rule {rule.id!r} path").search(path)):
            return  # path-scoped rules (gitleaks semantics) need a path that matches
        window = text[ws:we]
        try:
            matches = list(self._rx(i).finditer(window))
        except UnicodeEncodeError:
            # Lone surrogates (from JSON "\\udcff" escapes) cannot go to RE2 as UTF-8;
            # swap them one-for-one so offsets stay true.
            window = _SURROGATES.sub("\ufffd", window)
            matches = list(self._rx(i).finditer(window))
        for m in matches:
            g = rule.secret_group
            if g is None:  # gitleaks: the first group that matched, else the whole match
                g = next((k for k in range(1, m.re.groups + 1) if m.group(k)), 0)
            s, e = m.span(g) if g <= m.re.groups else m.span(0)
            if s < 0 or e <= s:
                continue
            secret = window[s:e]
            if rule.entropy and shannon_entropy(secret) < rule.entropy:
                continue
            line = _line_at(text, ws + s, ws + e)
            if not all(CHECKS[c](secret, m, line) for c in rule.checks):
                continue
            if self._allowed(rule, secret, m.group(0), line, path, commit):
                continue
            if self.allow_markers and any(mk in line for mk in self.allow_markers):
                continue
            out.append(_Raw(ws + s, ws + e, i, secret, rule.generic))

    def _allowed(self, rule: Rule, secret: str, match: str, line: str, path: str, commit: str = "") -> bool:
        for al in rule.allowlists:
            if self._allowlist_hit(al, secret, match, line, path, commit):
                return True
        for al in self.allowlists:
            if (not al.target_rules or rule.id in al.target_rules) and self._allowlist_hit(
                al, secret, match, line, path, commit
            ):
                return True
        return False

    def _allowlist_hit(self, al: Allowlist, secret: str, match: str, line: str, path: str, commit: str = ""
                       ) -> bool:
        results: list[bool] = []
        if al.commits:
            # outside a history scan there is no commit, so a commits check never matches there
            results.append(bool(commit) and any(commit.startswith(c.lower()) for c in al.commits))
        if al.regexes:
            target = {"match": match, "line": line}.get(al.regex_target, secret)
            results.append(any(self._re(p, "allowlist regex").search(target) for p in al.regexes))
        if al.paths:
            results.append(bool(path) and any(self._re(p, "allowlist path").search(path) for p in al.paths))
        if al.stopwords:
            low = secret.lower()
            results.append(any(w.lower() in low for w in al.stopwords))
        if not results:
            return False
        return all(results) if al.condition.upper() == "AND" else any(results)

    @staticmethod
    def _resolve(raws: list[_Raw]) -> list[_Raw]:
        """Drop duplicates and overlaps: a specific rule beats a generic one, else first/longest wins."""
        raws.sort(key=lambda r: (r.start, -(r.end - r.start), r.generic))
        kept: list[_Raw] = []
        for r in raws:
            if kept and r.start < kept[-1].end:
                last = kept[-1]
                if last.generic and not r.generic:
                    kept[-1] = r
                continue
            kept.append(r)
        return kept

    def _findings(self, text: str, raws: Sequence[_Raw], path: str, base: int, base_line: int) -> list[Finding]:
        out: list[Finding] = []
        pos, line = 0, base_line
        for r in raws:
            line += text.count("\n", pos, r.start)
            pos = r.start
            ls = text.rfind("\n", 0, r.start) + 1
            col = r.start - ls + 1
            rule = self.rules[r.rule]
            inner = r.secret.count("\n")
            end_col = (len(r.secret) - r.secret.rfind("\n") - 1 + 1) if inner else col + len(r.secret)
            out.append(
                Finding(
                    rule_id=rule.id,
                    description=rule.description,
                    start=base + r.start,
                    end=base + r.end,
                    line=line,
                    column=col,
                    path=path,
                    end_line=line + inner,
                    end_column=end_col,
                    entropy=shannon_entropy(r.secret) if len(r.secret) <= 4096 else 0.0,
                    line_hash=_line_hash(text, ls, raws),
                    _secret=r.secret,
                )
            )
        return out

    def path_findings(self, path: str) -> list[Finding]:
        """Rules with a ``path`` and no regex flag the file itself (gitleaks semantics)."""
        out = []
        for r in self.rules:
            if r.path and not r.regex and self._re(r.path, f"rule {r.id!r} path").search(path):
                out.append(Finding(r.id, r.description, 0, 0, 0, 0, path, _secret=path))
        return out


def _line_hash(text: str, ls: int, raws: Sequence[_Raw]) -> str:
    """Keyless hash of the finding's (first) line with every secret on it masked."""
    le = text.find("\n", ls)
    if le == -1:
        le = len(text)
    if le - ls > _LONG_LINE:
        le = ls + _LONG_LINE  # a minified bundle: the start of the line stands for it
    spans = [(max(r.start, ls) - ls, min(r.end, le) - ls) for r in raws if r.start < le and r.end > ls]
    return masked_line_hash(text[ls:le], spans)


def _line_at(text: str, start: int, end: int) -> str:
    ls = text.rfind("\n", 0, start) + 1
    le = text.find("\n", end)
    if le == -1:
        le = len(text)
    if le - ls > _LONG_LINE:  # a minified bundle: the neighbourhood is the "line"
        ls, le = max(ls, start - _BEFORE), min(le, end + _BEFORE)
    return text[ls:le]
