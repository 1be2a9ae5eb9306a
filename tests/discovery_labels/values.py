"""Synthetic value makers shared by the blocks of the labelled set (no value is a real
person's: names are drawn from short lists, numbers are random with computed check digits)."""

from __future__ import annotations

import random

__all__ = ["FIRST", "HEALTH", "LAST", "STREETS", "nino", "ssn", "valid_card", "valid_iban"]

FIRST = ["Ann", "Bob", "Chloé", "Dev", "Erin", "Farid", "Grace", "Hiro", "Ines", "Jon", "Kemi"]
LAST = ["Smith", "Okafor", "García", "Nguyen", "Müller", "O'Brien", "Kowalski", "Tanaka", "Silva"]
STREETS = ["Baker Street", "Elm Road", "Oak Avenue", "High Street", "Mill Lane", "Park Drive"]
HEALTH = [
    "Type 2 diabetes",
    "asthma, mild",
    "E11.9",
    "J45.909",
    "hypertension",
    "I10",
    "insulin 10 mg daily",
    "seasonal allergies",
]


def valid_card(rng: random.Random, prefix: str = "4", length: int = 16) -> str:
    """A number of ``length`` digits starting with ``prefix`` whose Luhn check digit is right."""
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return body + str((10 - total % 10) % 10)


def valid_iban(rng: random.Random, country: str = "DE") -> str:
    """An IBAN with a random 18-digit BBAN and correct ISO 7064 mod 97-10 check digits."""
    bban = "".join(str(rng.randrange(10)) for _ in range(18))
    number = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    return f"{country}{98 - number % 97:02d}{bban}"


def ssn(rng: random.Random) -> str:
    """An SSN inside the SSA's issued ranges (no area 000/666/9xx, group 00, serial 0000)."""
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randrange(1, 100):02d}-{rng.randrange(1, 10000):04d}"


def nino(rng: random.Random) -> str:
    """A NINO with HMRC-allowed prefix letters."""
    first = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    if first + second in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}:
        first, second = "A", "B"
    return f"{first}{second}{rng.randrange(10**6):06d}{rng.choice('ABCD')}"
