"""Recovering from what tree-sitter-bash misreads: pieces between operators, brace-group prefixes.

Pure text functions, linear scans without regexes; the walker in :mod:`shell` decides when to use them.
"""

from __future__ import annotations


def regroup(source: str) -> str | None:
    """``source`` with the prefixes tree-sitter-bash misreads before a brace group removed, or None."""
    if "{" not in source or not ("time" in source or "!" in source or "coproc" in source):
        return None
    out = source
    for prefix in ("time -p {", "time {", "! {", "!{"):
        out = out.replace(prefix, "{")
    k = out.find("coproc ")
    while k != -1:
        rest = out[k + 7:].lstrip()
        _name, _, after = rest.partition(" ")
        if after.lstrip().startswith(("{", "(")):
            out = out[:k] + after.lstrip()
        elif rest.startswith(("{", "(")):
            out = out[:k] + rest
        k = out.find("coproc ", k + 1)
    return out if out != source else None


_BREAKS = ("&&", "||", ";;", ";", "|", "&", "\n", "(", ")", "{", "}", "`", "$(")


def split_pieces(source: str) -> list[str]:
    """Split shell text at control operators outside quotes (a linear scan, no regexes)."""
    pieces: list[str] = []
    buf: list[str] = []
    quote = ""
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if quote:
            buf.append(ch)
            if ch == "\\" and quote == '"' and i + 1 < n:
                buf.append(source[i + 1])
                i += 2
                continue
            if ch == quote:
                quote = ""
            i += 1
            continue
        if ch in "'\"":
            quote = ch
            buf.append(ch)
            i += 1
            continue
        if ch == "\\" and i + 1 < n:
            buf.append(source[i:i + 2])
            i += 2
            continue
        op = next((b for b in _BREAKS if source.startswith(b, i)), None)
        if op is not None:
            pieces.append("".join(buf))
            buf = []
            i += len(op)
            continue
        buf.append(ch)
        i += 1
    pieces.append("".join(buf))
    return [p.strip().removeprefix("[").removesuffix("]").strip() if p.strip().startswith("[") else p for p in pieces]
