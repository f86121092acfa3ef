"""Personal-data detection: Warden vs Microsoft Presidio's pattern recognizers, same corpus, one run.

Accuracy per kind on the labelled corpus (tests/cases/pii/corpus.py: logs, CSV exports, fixtures, code,
with look-alikes), then throughput in MB/s beside the secrets scan on the same text.

Presidio configuration: presidio-analyzer's predefined *pattern* recognizers (CreditCardRecognizer,
IbanRecognizer, UsSsnRecognizer, EmailRecognizer, PhoneRecognizer, EsNifRecognizer) called directly with
no NLP engine (spaCy models cannot be downloaded here, and context words only raise scores); a result
counts when its score is >= 0.3 (Presidio's own low-confidence floor for these patterns is 0.05–0.5; we
report the threshold used).

    python bench/bench_pii.py [--docs 400]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "cases" / "pii"))
from corpus import documents  # noqa: E402

from warden.core.pii import scan_pii  # noqa: E402

KINDS = ("card", "iban", "ssn", "national_id", "phone", "email")
PRESIDIO = {"card": "CREDIT_CARD", "iban": "IBAN_CODE", "ssn": "US_SSN", "email": "EMAIL_ADDRESS",
            "phone": "PHONE_NUMBER", "national_id": "ES_NIF"}


def presidio_scan():
    try:
        from presidio_analyzer.predefined_recognizers import (CreditCardRecognizer, EmailRecognizer, EsNifRecognizer,
                                                              IbanRecognizer, PhoneRecognizer, UsSsnRecognizer)
    except ImportError:
        return None
    recs = {"card": CreditCardRecognizer(), "iban": IbanRecognizer(), "ssn": UsSsnRecognizer(),
            "email": EmailRecognizer(), "phone": PhoneRecognizer(), "national_id": EsNifRecognizer()}

    def scan(text: str) -> list[tuple[str, int, int]]:
        out = []
        for kind, rec in recs.items():
            for r in rec.analyze(text, [PRESIDIO[kind]], None):
                if r.score >= 0.3:
                    out.append((kind, r.start, r.end))
        return out

    return scan


def score(docs, scan) -> dict[str, tuple[float, float]]:
    per = {k: [0, 0, 0] for k in KINDS}
    for text, truth in docs:
        found = {(k, text[s:e].strip()) for k, s, e in scan(text) if k in per}
        want = {(k, v) for k, v in truth}
        for k, v in found:
            per[k][0 if (k, v) in want else 1] += 1
        for k, _v in want - found:
            per[k][2] += 1
    return {k: (tp / max(1, tp + fp), tp / max(1, tp + fn)) for k, (tp, fp, fn) in per.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=400)
    args = ap.parse_args()
    docs = documents(args.docs, seed=99)  # a different seed from the unit test's
    warden = score(docs, lambda t: [(f.kind, f.start, f.end) for f in scan_pii(t, KINDS)])
    pscan = presidio_scan()
    presidio = score(docs, pscan) if pscan else None
    print(f"{'kind':12} {'warden P':>9} {'R':>6}   {'presidio P':>10} {'R':>6}")
    for k in KINDS:
        p = f"{presidio[k][0]:10.3f} {presidio[k][1]:6.3f}" if presidio else "   (not installed)"
        print(f"{k:12} {warden[k][0]:9.3f} {warden[k][1]:6.3f}   {p}")
    text = "".join(t for t, _ in docs) * 4
    mb = len(text.encode()) / 1e6
    t = time.perf_counter()
    scan_pii(text, KINDS)
    pii_s = time.perf_counter() - t
    t = time.perf_counter()
    scan_pii(text, ("card", "ssn", "national_id"))
    default_s = time.perf_counter() - t
    from warden.core.secrets import scan_text

    scan_text(text[:10000])
    t = time.perf_counter()
    scan_text(text)
    sec_s = time.perf_counter() - t
    line = f"throughput on {mb:.1f} MB: all kinds {mb / pii_s:.1f} MB/s, default kinds {mb / default_s:.1f} MB/s, " \
           f"secrets scan {mb / sec_s:.1f} MB/s"
    if pscan:
        t = time.perf_counter()
        pscan(text[: len(text) // 8])
        line += f", presidio {mb / 8 / (time.perf_counter() - t):.1f} MB/s"
    print(line)


if __name__ == "__main__":
    main()
