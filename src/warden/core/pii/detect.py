"""Personal-data detectors: payment cards, IBANs, national ids, phone numbers, e-mail, dates of birth, PHI cues.

Each detector is a linear-time candidate pattern (RE2) plus a validator that must pass, so test fixtures,
UUIDs, version strings, timestamps and order numbers do not light up:

==============  ===========================================================================
``card``        13–19 digits (plain, or in groups with one consistent separator); Luhn; a real
                issuer range (Visa, Mastercard incl. 2-series, Amex, Discover, JCB, Diners, UnionPay,
                Maestro); not one repeated digit; not a published test number
``iban``        country code + check digits + BBAN; the country's length; ISO 7064 mod 97-10
``ssn``         US SSN ``AAA-GG-SSSS`` (or spaced); area not 000/666/9xx, group not 00, serial not
                0000, not a well-known example; nine plain digits only beside an SSN context word
``national_id`` Spain DNI/NIE, Italy codice fiscale, Brazil CPF, India Aadhaar (Verhoeff), Canada SIN
                and France NIR with a context word — validated with ``python-stdnum``
``phone``       E.164 or national shapes, validated by ``phonenumbers`` (international numbers, or
                the default region's); not a date, version or IP address
``email``       an address on a real-looking domain; not example/test domains, not ``git@host``
``dob``         a plausible date right after "date of birth", "DOB", "born" ...
``phi``         medical record numbers and ICD-10 codes beside their context words
==============  ===========================================================================

Pure: text in, :class:`PiiFinding` out; offsets are characters. Bounded: candidates per kind are
capped, and a line longer than ``MAX_LINE`` is scanned in windows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

# Stdlib regexes, on purpose: every quantifier below is bounded, so each match attempt does a bounded
# amount of work and a scan is linear in the text (house rule 7: RE2 or bounded patterns). RE2's Python
# wrapper turns each match's byte offsets into character offsets by rescanning, which made a scan of a
# record-dense export quadratic.
import re as _re

KINDS = ("card", "iban", "ssn", "national_id", "phone", "email", "dob", "phi")
MAX_CANDIDATES = 100_000

_TEST_CARDS = frozenset({
    "4111111111111111", "4242424242424242", "4012888888881881", "4222222222222", "4000056655665556",
    "5555555555554444", "5105105105105100", "5200828282828210", "2223003122003222", "378282246310005",
    "371449635398431", "378734493671000", "6011111111111117", "6011000990139424", "3056930009020004",
    "30569309025904", "38520000023237", "3566002020360505", "3530111333300000", "6200000000000005",
    "4000000000000002", "4000000000000077", "4000000000000093", "5454545454545454",
})
_EXAMPLE_SSN = frozenset({"078051120", "219099999", "123456789", "457555462"})
_EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net", "test.com", "localhost", "invalid", "test",
                    "domain.com", "email.com", "users.noreply.github.com", "noreply.github.com")


@dataclass(frozen=True, slots=True)
class PiiFinding:
    kind: str
    start: int
    end: int
    detail: str = ""  # e.g. the card brand or the id scheme; never the value

    def __repr__(self) -> str:  # the value is never part of a finding's text form
        return f"PiiFinding({self.kind!r}, {self.start}, {self.end}, {self.detail!r})"


def _luhn(digits: str) -> bool:
    total, alt = 0, False
    for ch in reversed(digits):
        d = ord(ch) - 48
        if alt:
            d *= 2
            if d > 9:
                d -= 9
        total += d
        alt = not alt
    return total % 10 == 0


def card_brand(digits: str) -> str:
    n, p2, p3, p4, p6 = len(digits), int(digits[:2]), int(digits[:3]), int(digits[:4]), int(digits[:6])
    if digits[0] == "4" and n in (13, 16, 19):
        return "visa"
    if (51 <= p2 <= 55 or 222100 <= p6 <= 272099) and n == 16:
        return "mastercard"
    if p2 in (34, 37) and n == 15:
        return "amex"
    if (p4 == 6011 or p2 == 65 or 644 <= p3 <= 649 or 622126 <= p6 <= 622925) and n in (16, 19):
        return "discover"
    if 3528 <= p4 <= 3589 and 16 <= n <= 19:
        return "jcb"
    if (300 <= p3 <= 305 or p2 in (36, 38, 39)) and 14 <= n <= 19:
        return "diners"
    if p2 == 62 and 16 <= n <= 19:
        return "unionpay"
    if (p2 == 50 or 56 <= p2 <= 69) and 12 <= n <= 19:
        return "maestro"
    return ""


# --- candidates ----------------------------------------------------------------------------------------
_CARD = _re.compile(r"(?:^|[^\w.\-/:])((?:\d{4}[ -]){2,3}\d{3,7}|\d{4}[ -]\d{6}[ -]\d{5}|\d{13,19})(?:$|[^\w.\-/:@])")
_IBAN = _re.compile(r"(?:^|[^\w])([A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?)(?:$|[^\w])")
_SSN = _re.compile(r"(?:^|[^\w\-.])(\d{3})([- ])(\d{2})([- ])(\d{4})(?:$|[^\w\-.])")
_SSN_PLAIN = _re.compile(r"(?i)(?:ssn|social security(?: number| no\.?)?|soc\.? sec\.?)[\s:#=\"']{0,4}(\d{9})\b")
_ESDNI = _re.compile(r"(?:^|[^\w])([XYZ]?\d{7,8}[- ]?[A-Z])(?:$|[^\w])")
_ITCF = _re.compile(r"(?:^|[^\w])([A-Z]{6}\d{2}[A-EHLMPRST]\d{2}[A-Z]\d{3}[A-Z])(?:$|[^\w])")
_BRCPF = _re.compile(r"(?:^|[^\w.\-])(\d{3}\.\d{3}\.\d{3}-\d{2})(?:$|[^\w.\-])")
_AADHAAR = _re.compile(r"(?:^|[^\w\-])([2-9]\d{3} \d{4} \d{4})(?:$|[^\w\-])")
_CONTEXT_ID = _re.compile(r"(?i)(sin|social insurance(?: number)?|nir|num[ée]ro de s[ée]curit[ée] sociale|aadhaar|cpf|bsn)"
                          r"[\s:#=\"']{0,4}([0-9][0-9 .\-]{8,20}[0-9])")
_PHONE = _re.compile(r"(?:^|[^\w.+\-/:])(\+\d{1,3}[ .\-]?(?:\(\d{1,4}\)[ .\-]?)?\d{1,4}(?:[ .\-]?\d{2,4}){1,4}|"
                     r"\(\d{3}\)[ .\-]?\d{3}[ .\-]\d{4}|\d{3}[.\- ]\d{3}[.\- ]\d{4})(?:$|[^\w.\-/:])")
_EMAIL = _re.compile(r"(?:^|[^\w.+\-])([A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){0,8}\.[A-Za-z]{2,24})"
                     r"(?:$|[^\w\-])")
_DOB = _re.compile(r"(?i)(?:\bdob\b|date of birth|birth ?date|birthday|\bborn(?: on)?\b|geburtsdatum|fecha de nacimiento|"
                   r"date de naissance)[\s:=\"'()a-z]{0,12}?(\d{4}-\d{2}-\d{2}|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}|"
                   r"\d{1,2} (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* \d{4})")
_PHI = _re.compile(r"(?i)(?:\bmrn\b|medical record(?: number| no\.?| #)?|patient id)[\s:#=\"']{0,4}([A-Z]{0,3}\d{5,10})|"
                   r"(?:\bicd-?10\b|diagnosis(?: code)?)[\s:#=\"']{0,4}([A-TV-Z]\d{2}(?:\.\d{1,4})?)")


# Cheap first looks: most text an agent handles has no candidate at all.
_HAS_CARD = _re.compile(r"\d(?:[ -]?\d){12}")
_HAS_SSN = _re.compile(r"\d{3}[- ]\d{2}[- ]\d{4}|(?i:ssn|social sec|soc\.? ?sec)")
_HAS_NID = _re.compile(r"\d{7}|\d{3}\.\d{3}\.|[A-Z]{6}\d{2}|\d{4} \d{4} \d{4}|(?i:\bsin\b|social ins|\bnir\b|"
                       r"s[ée]curit[ée] sociale|aadhaar|\bcpf\b|\bbsn\b)")


def _stdnum() -> Any:
    """The python-stdnum validators, imported once (they stay out of the import path until needed)."""
    global _STDNUM
    if _STDNUM is None:
        from stdnum import iban, verhoeff
        from stdnum.br import cpf
        from stdnum.ca import sin
        from stdnum.es import dni, nie
        from stdnum.fr import nir
        from stdnum.it import codicefiscale
        from stdnum.nl import bsn

        _STDNUM = SimpleNamespace(iban=iban, verhoeff=verhoeff, cpf=cpf, sin=sin, dni=dni, nie=nie, nir=nir,
                                  codicefiscale=codicefiscale, bsn=bsn)
    return _STDNUM


_STDNUM: Any = None


# Every value of the default kinds has at least seven digits (a codice fiscale has exactly seven), and
# counting digits is one C-speed pass: the audit redactor runs on every field of every event.
_DIGITS = {ord(c): None for c in "0123456789"}
_DEFAULT_KINDS = frozenset({"card", "ssn", "national_id"})


def _finditer(rx: _re.Pattern[str], text: str) -> Iterable[_re.Match[str]]:
    for i, m in enumerate(rx.finditer(text)):
        if i >= MAX_CANDIDATES:
            return
        yield m


def _cards(text: str) -> Iterable[PiiFinding]:
    if not _HAS_CARD.search(text):
        return
    for m in _finditer(_CARD, text):
        raw = m.group(1)
        digits = raw.replace(" ", "").replace("-", "")
        if not 13 <= len(digits) <= 19:
            continue
        seps = {c for c in raw if c in " -"}
        if len(seps) > 1:
            continue
        if len(set(digits)) <= 2 or digits in _TEST_CARDS or not _luhn(digits):
            continue
        brand = card_brand(digits)
        if brand:
            yield PiiFinding("card", m.start(1), m.end(1), brand)


def _ibans(text: str) -> Iterable[PiiFinding]:
    iban = _stdnum().iban
    for m in _finditer(_IBAN, text):
        value = m.group(1)
        if iban.is_valid(value):
            yield PiiFinding("iban", m.start(1), m.end(1), value[:2])


def _ssns(text: str) -> Iterable[PiiFinding]:
    if not _HAS_SSN.search(text):
        return
    for m in _finditer(_SSN, text):
        area, sep1, group, sep2, serial = m.group(1), m.group(2), m.group(3), m.group(4), m.group(5)
        if sep1 != sep2 or _bad_ssn(area, group, serial):
            continue
        yield PiiFinding("ssn", m.start(1), m.end(5), "us-ssn")
    for m in _finditer(_SSN_PLAIN, text):
        d = m.group(1)
        if not _bad_ssn(d[:3], d[3:5], d[5:]):
            yield PiiFinding("ssn", m.start(1), m.end(1), "us-ssn")


def _bad_ssn(area: str, group: str, serial: str) -> bool:
    return (area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000"
            or area + group + serial in _EXAMPLE_SSN or len(set(area + group + serial)) == 1)


def _national_ids(text: str) -> Iterable[PiiFinding]:
    if not _HAS_NID.search(text):
        return
    sn = _stdnum()
    verhoeff, cpf, sin, dni, nie, nir = sn.verhoeff, sn.cpf, sn.sin, sn.dni, sn.nie, sn.nir
    for m in _finditer(_ESDNI, text):
        v = m.group(1).replace("-", "").replace(" ", "")
        if (dni.is_valid(v) or nie.is_valid(v)) and len(set(v[:-1].lstrip("XYZ"))) > 2:
            yield PiiFinding("national_id", m.start(1), m.end(1), "es-dni")
    for m in _finditer(_BRCPF, text):
        if cpf.is_valid(m.group(1)):
            yield PiiFinding("national_id", m.start(1), m.end(1), "br-cpf")
    for m in _finditer(_AADHAAR, text):
        d = m.group(1).replace(" ", "")
        try:
            ok = verhoeff.is_valid(d) and len(set(d)) > 2
        except Exception:  # noqa: BLE001 — stdnum raises on malformed input
            ok = False
        if ok:
            yield PiiFinding("national_id", m.start(1), m.end(1), "in-aadhaar")
    for m in _finditer(_CONTEXT_ID, text):
        word, value = m.group(1).lower(), m.group(2)
        checks = ((sin, "ca-sin"),) if word.startswith(("sin", "social insurance")) else \
                 ((nir, "fr-nir"),) if word.startswith(("nir", "num")) else \
                 ((cpf, "br-cpf"),) if word == "cpf" else ()
        for module, scheme in checks:
            if module.is_valid(value):
                yield PiiFinding("national_id", m.start(2), m.end(2), scheme)
        if word == "aadhaar":
            d = "".join(c for c in value if c.isdigit())
            if len(d) == 12 and verhoeff.is_valid(d):
                yield PiiFinding("national_id", m.start(2), m.end(2), "in-aadhaar")
        if word == "bsn":
            if sn.bsn.is_valid(value):
                yield PiiFinding("national_id", m.start(2), m.end(2), "nl-bsn")


def _phones(text: str, region: str) -> Iterable[PiiFinding]:
    import phonenumbers

    for m in _finditer(_PHONE, text):
        raw = m.group(1)
        digits = sum(c.isdigit() for c in raw)
        if digits < 8 or digits > 15:
            continue
        try:
            num = phonenumbers.parse(raw, None if raw.startswith("+") else region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(num):
            yield PiiFinding("phone", m.start(1), m.end(1), f"+{num.country_code}")


def _emails(text: str) -> Iterable[PiiFinding]:
    for m in _finditer(_EMAIL, text):
        addr = m.group(1)
        local, _, domain = addr.rpartition("@")
        d = domain.lower()
        if d.endswith(_EXAMPLE_DOMAINS) or local.lower() in ("git", "noreply", "no-reply", "user", "name"):
            continue
        if d.split(".")[-1] in ("png", "jpg", "svg", "js", "css", "py", "ts", "json", "lock", "gif"):
            continue  # retina assets and code references: icon@2x.png, pkg@1.2.js
        yield PiiFinding("email", m.start(1), m.end(1), "")


def _dobs(text: str) -> Iterable[PiiFinding]:
    for m in _finditer(_DOB, text):
        value = m.group(1)
        years = [int(p) for p in _re.split(r"[/.\- ]", value) if p.isdigit() and len(p) == 4]
        if years and not 1900 <= years[0] <= 2026:
            continue
        yield PiiFinding("dob", m.start(1), m.end(1), "")


def _phi(text: str) -> Iterable[PiiFinding]:
    for m in _finditer(_PHI, text):
        g = 1 if m.group(1) else 2
        yield PiiFinding("phi", m.start(g), m.end(g), "mrn" if g == 1 else "icd10")


_RUN = _re.compile(r"\d[\d .\-/()]{5,40}\d")  # where every digit-bearing value can be (>= 7 chars)
_LEFT, _RIGHT = 64, 24  # context kept around a run: labels like "date of birth:" or "SSN" sit on its left


def _windows(text: str) -> list[tuple[int, int]]:
    """Merged spans around digit runs: the detectors run there only, so text without numbers costs one
    pass of a simple pattern, and a scan stays linear however dense the records are."""
    spans: list[tuple[int, int]] = []
    for m in _RUN.finditer(text):
        a, b = max(0, m.start() - _LEFT), min(len(text), m.end() + _RIGHT)
        if spans and a <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], b))
        else:
            spans.append((a, b))
    return spans


def _email_windows(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    i = text.find("@")
    while i >= 0 and len(spans) < MAX_CANDIDATES:
        a, b = max(0, i - 70), min(len(text), i + 260)
        if spans and a <= spans[-1][1]:
            spans[-1] = (spans[-1][0], b)
        else:
            spans.append((a, b))
        i = text.find("@", b)
    return spans


def _in(spans: list[tuple[int, int]], text: str, detect: Any) -> Iterable[PiiFinding]:
    for a, b in spans:
        for f in detect(text[a:b]):
            yield PiiFinding(f.kind, f.start + a, f.end + a, f.detail)


def scan_pii(text: str, kinds: Iterable[str] = KINDS, region: str = "US") -> list[PiiFinding]:
    """Every personal-data finding in ``text`` for the given kinds, sorted, overlaps resolved (first wins)."""
    want = set(kinds)
    if want <= _DEFAULT_KINDS and len(text) - len(text.translate(_DIGITS)) < 7:
        return []
    found: list[PiiFinding] = []
    digit_kinds = want & {"card", "iban", "ssn", "national_id", "phone", "dob", "phi"}
    if digit_kinds:
        spans = _windows(text)
        for kind, detect in (("card", _cards), ("iban", _ibans), ("ssn", _ssns), ("national_id", _national_ids),
                             ("phone", lambda t: _phones(t, region)), ("dob", _dobs)):
            if kind in want:
                found += _in(spans, text, detect)
        if "national_id" in want:  # an Italian codice fiscale has no seven-digit run: its own pass
            found += (PiiFinding("national_id", m.start(1), m.end(1), "it-codicefiscale")
                      for m in _finditer(_ITCF, text) if _stdnum().codicefiscale.is_valid(m.group(1)))
        if "phi" in want:
            found += _phi(text)
    if "email" in want:
        found += _in(_email_windows(text), text, _emails)
    found.sort(key=lambda f: (f.start, -(f.end - f.start)))
    out: list[PiiFinding] = []
    end = -1
    for f in found:
        if f.start >= end and (not out or (f.start, f.end) != (out[-1].start, out[-1].end)):
            out.append(f)
            end = f.end
    return out
