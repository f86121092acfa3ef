"""Property tests: any input is scanned without error, and chunking never changes the result."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from samplegen import SAMPLES, fill

from warden.core.secrets import default_ruleset, redact, scan_text
from warden.core.secrets.redaction import apply_markers

PLANTS = [fill(t, seed=f"prop-{rid}") for rid, ts in sorted(SAMPLES.items()) for t in ts[:1]]
pieces = st.one_of(
    st.text(max_size=300),
    st.sampled_from(PLANTS),
    st.sampled_from(["\n", "password=", "token: ", "://", "-----BEGIN ", "\x00", "\udcff", "İ", "\r\n", "x" * 900]),
)
KEY = b"k"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(pieces, max_size=40), st.integers(min_value=1, max_value=3000), st.integers(1500, 4000))
def test_any_text_scans_and_chunking_is_invisible(parts: list[str], size: int, chunk: int) -> None:
    # Small chunk/overlap sizes (overlap > the longest planted match) exercise every cut.
    rs = default_ruleset()
    text = "".join(parts)
    whole = scan_text(text)
    pieces_in = [text[i : i + size] for i in range(0, len(text), size)]
    streamed, out, offset = [], [], 0
    for piece, found in rs._stream(pieces_in, "", emit_text=True, chunk=chunk, overlap=1400):
        streamed.extend(found)
        out.append(apply_markers(piece, found, KEY, base=offset) if found else piece)
        offset += len(piece)
    assert [(f.rule_id, f.start, f.end, f.line) for f in streamed] == [
        (f.rule_id, f.start, f.end, f.line) for f in whole
    ]
    assert "".join(out) == redact(text, KEY).text
