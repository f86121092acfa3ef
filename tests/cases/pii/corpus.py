"""A labelled personal-data corpus, generated (seeded, deterministic): realistic logs, CSV exports, test
fixtures and source code, with look-alikes beside the real values.

Each document is (text, [(kind, value)]): the expected findings. Values are made the way real ones are
(valid Luhn and issuer ranges, mod-97 IBANs, valid SSN ranges, checksummed national ids, assigned phone
ranges); look-alikes are what trips naive detectors: UUIDs, version strings, epoch milliseconds, order and
tracking numbers, published test cards, example.com mail, invalid SSN ranges, dates without a birth
context, IP addresses.
"""

from __future__ import annotations

import random
import string

FIRST = ["Jane", "Omar", "Li", "Priya", "Lucas", "Sofia", "Kwame", "Yuki", "Elena", "Mateo"]
LAST = ["Doe", "Haddad", "Wei", "Nair", "Martin", "Rossi", "Mensah", "Sato", "Petrova", "Garcia"]
DOMAINS = ["acme-corp.io", "globex.co.uk", "initech.de", "umbrella.fr", "hooli.com", "stark.industries"]
CARD_PREFIX = {"visa": ["4"], "mastercard": ["51", "53", "55", "2221", "2720"], "amex": ["34", "37"],
               "discover": ["6011", "65"]}
CARD_LEN = {"visa": 16, "mastercard": 16, "amex": 15, "discover": 16}
IBAN_BBAN = {"DE": (18, "n"), "GB": (18, "GB"), "FR": (23, "n"), "NL": (14, "NL"), "IT": (23, "IT"), "AT": (16, "n")}  # Spain left out: its BBAN carries national check digits this generator does not compute


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return body + str((10 - total % 10) % 10)


def card(rng: random.Random) -> str:
    brand = rng.choice(list(CARD_PREFIX))
    digits = luhn_complete(rng.choice(CARD_PREFIX[brand]), CARD_LEN[brand], rng)
    style = rng.random()
    if brand == "amex" and style < 0.5:
        return f"{digits[:4]} {digits[4:10]} {digits[10:]}"
    if style < 0.4:
        return " ".join(digits[i:i + 4] for i in range(0, len(digits), 4))
    if style < 0.6:
        return "-".join(digits[i:i + 4] for i in range(0, len(digits), 4))
    return digits


def iban(rng: random.Random) -> str:
    country = rng.choice(list(IBAN_BBAN))
    n, kind = IBAN_BBAN[country]
    if kind == "GB":
        bban = "".join(rng.choice(string.ascii_uppercase) for _ in range(4)) + "".join(rng.choice(string.digits) for _ in range(14))
    elif kind == "NL":
        bban = "".join(rng.choice(string.ascii_uppercase) for _ in range(4)) + "".join(rng.choice(string.digits) for _ in range(10))
    elif kind == "IT":
        bban = rng.choice(string.ascii_uppercase) + "".join(rng.choice(string.digits) for _ in range(22))
    else:
        bban = "".join(rng.choice(string.digits) for _ in range(n))
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(numeric) % 97
    value = f"{country}{check:02d}{bban}"
    return " ".join(value[i:i + 4] for i in range(0, len(value), 4)) if rng.random() < 0.5 else value


def ssn(rng: random.Random) -> str:
    while True:
        area = rng.randint(1, 899)
        if area != 666:
            break
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def national_id(rng: random.Random) -> str:
    kind = rng.choice(["dni", "cpf"])
    if kind == "dni":
        n = rng.randint(10_000_000, 99_999_999)
        return f"{n}{'TRWAGMYFPDXBNJZSQVHLCKE'[n % 23]}"
    digits = [rng.randint(0, 9) for _ in range(9)]
    for w in (10, 11):
        s = sum(d * (w - i) for i, d in enumerate(digits)) % 11
        digits.append(0 if s < 2 else 11 - s)
    d = "".join(map(str, digits))
    return f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}"


def phone(rng: random.Random) -> str:
    return rng.choice([f"+1 415 555 {rng.randint(1000, 9999)}".replace("555", str(rng.choice([555, 867, 392]))),
                       f"+44 20 7946 {rng.randint(1000, 9999)}", f"+49 30 {rng.randint(1000000, 9999999)}",
                       f"({rng.choice([212, 646, 415])}) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}"])


def email(rng: random.Random) -> str:
    return f"{rng.choice(FIRST).lower()}.{rng.choice(LAST).lower()}@{rng.choice(DOMAINS)}"


def lookalike(rng: random.Random) -> str:
    return rng.choice([
        "550e8400-e29b-41d4-a716-" + "".join(rng.choice("0123456789abcdef") for _ in range(12)),
        f"v{rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 999)}.{rng.randint(1000, 9999)}",
        str(rng.randint(1_600_000_000_000, 1_800_000_000_000)),  # epoch milliseconds
        "ORD-" + "".join(rng.choice(string.digits) for _ in range(16)),
        "4242 4242 4242 4242", "4111-1111-1111-1111", "5555555555554444",
        f"{rng.choice(['user', 'test', 'admin'])}@example.com", "git@github.com:acme/app.git",
        f"{rng.choice([0, 666, 900, 987])}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}",  # invalid SSN areas
        f"released {rng.randint(2019, 2025)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
        f"{rng.randint(10, 192)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        "".join(rng.choice(string.digits) for _ in range(16)),  # a random 16-digit id (fails Luhn 90%)
        "1Z999AA1" + "".join(rng.choice(string.digits) for _ in range(10)),  # tracking number
        "icon@2x.png", "node@20.11.1",
    ])


KINDS = {"card": card, "iban": iban, "ssn": ssn, "national_id": national_id, "phone": phone, "email": email}
TEMPLATES = {
    "log": "{ts} INFO payment accepted user={user} {kind}={value} request_id={look}",
    "csv": "{user},{value},{look},{city}",
    "code": "    customer = Customer(name=\"{user}\", {kind}=\"{value}\")  # ref {look}",
    "fixture": "  - {{ id: {n}, {kind}: \"{value}\", build: \"{look}\" }}",
    "support": "Ticket {n}: {user} wrote \"my {kind} is {value}, please update it\" (see {look})",
}


def documents(n: int = 400, seed: int = 7) -> list[tuple[str, list[tuple[str, str]]]]:
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        lines, truth = [], []
        for _ in range(rng.randint(3, 8)):
            kind = rng.choice(list(KINDS))
            value = KINDS[kind](rng)
            tpl = TEMPLATES[rng.choice(list(TEMPLATES))]
            lines.append(tpl.format(ts=f"2026-11-{rng.randint(10, 28)}T10:0{rng.randint(0, 9)}:00Z",
                                    user=f"{rng.choice(FIRST)} {rng.choice(LAST)}", kind=kind.replace("_", ""),
                                    value=value, look=lookalike(rng), city=rng.choice(["Paris", "Lagos", "Osaka"]), n=i))
            truth.append((kind, value))
        for _ in range(rng.randint(2, 6)):  # pure look-alike lines
            lines.append(f"build {lookalike(rng)} deployed at {lookalike(rng)} by ci")
        docs.append(("\n".join(lines) + "\n", truth))
    return docs
