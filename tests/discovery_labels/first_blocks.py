"""The first two blocks of the labelled set: development (tuned on) and the first held-out block.

Column names from Sakila/Pagila, Northwind and AdventureWorks plus columns whose names hide or
misstate their content. The makers are kept exactly as first written (same seed, same order of
random draws), so the figures in bench/README.md stay reproducible.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from .values import FIRST, HEALTH, LAST, STREETS, nino, ssn, valid_card, valid_iban

__all__ = ["Maker", "development", "first_held_out"]

#: (table, column, true category, value maker)
Maker = tuple[str, str, str, Callable[[], str]]


def development(rng: random.Random) -> list[Maker]:
    """The development block (40 columns): the classifier was written and tuned on it."""

    def name() -> str:
        return f"{rng.choice(FIRST)} {rng.choice(LAST)}"

    return [
        ("customer", "email", "email", lambda: f"user{rng.randrange(10**5)}@example.org"),
        ("person", "EmailAddress", "email", lambda: f"{rng.choice(FIRST).lower()}@corp.example"),
        ("tickets", "notes", "email", lambda: f"c{rng.randrange(999)}@mail.example.com"),
        ("address", "phone", "phone", lambda: f"+1 202 555 {rng.randrange(100, 200):04d}"),
        ("customers", "Phone", "phone", lambda: f"(415) 555-{rng.randrange(1000, 2000):04d}"),
        ("contacts", "mobile", "phone", lambda: f"+44 7700 900{rng.randrange(100, 999):03d}"),
        ("legacy", "phone", "none", lambda: rng.choice(["n/a", "unknown", "-", "tbd"])),
        ("creditcard", "CardNumber", "payment-card", lambda: valid_card(rng)),
        ("payments", "ref", "payment-card", lambda: valid_card(rng, "51")),
        ("orders", "order_number", "none", lambda: valid_card(rng)[:-1] + "x"),
        ("orders", "tracking_id", "none", lambda: str(rng.randrange(10**15, 10**16))),
        ("creditcard", "card_type", "none", lambda: rng.choice(["Visa", "Mastercard", "Amex"])),
        ("bank", "iban", "iban", lambda: valid_iban(rng)),
        ("suppliers", "account", "iban", lambda: valid_iban(rng, "GB")),
        ("employee", "NationalIDNumber", "us-ssn", lambda: ssn(rng)),
        ("applicants", "ssn", "us-ssn", lambda: ssn(rng)),
        ("applicants", "ssn_verified", "none", lambda: rng.choice(["true", "false"])),
        ("staff_uk", "ni_number", "uk-nino", lambda: nino(rng)),
        ("payroll", "value", "uk-nino", lambda: nino(rng)),
        (
            "employees",
            "BirthDate",
            "date-of-birth",
            lambda: (
                f"{rng.randrange(1950, 2000)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 28):02d}"
            ),
        ),
        (
            "patients",
            "dob",
            "date-of-birth",
            lambda: f"{rng.randrange(1, 28)}/{rng.randrange(1, 13)}/{rng.randrange(1940, 2005)}",
        ),
        (
            "address",
            "address",
            "postal-address",
            lambda: f"{rng.randrange(1, 999)} {rng.choice(STREETS)}",
        ),
        (
            "orders",
            "ShipAddress",
            "postal-address",
            lambda: f"{rng.randrange(1, 99)} {rng.choice(STREETS)}, Springfield",
        ),
        (
            "sessions",
            "client_ip",
            "ip-address",
            lambda: f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
        ),
        ("audit", "source", "ip-address", lambda: f"2001:db8::{rng.randrange(1, 9999):x}"),
        ("customers", "ContactName", "person-name", name),
        ("staff", "full_name", "person-name", name),
        ("visits", "attendee", "person-name", name),
        ("patients", "diagnosis", "health", lambda: rng.choice(HEALTH)),
        ("claims", "code", "health", lambda: rng.choice(["E11.9", "J45.909", "I10", "F32.A"])),
        ("payment", "amount", "none", lambda: f"{rng.randrange(1, 500)}.{rng.randrange(100):02d}"),
        ("film", "title", "none", lambda: rng.choice(["ACADEMY DINOSAUR", "ACE GOLDFINGER"])),
        ("staff", "username", "none", lambda: f"{rng.choice(FIRST).lower()}{rng.randrange(99)}"),
        ("orders", "status", "none", lambda: rng.choice(["shipped", "open", "cancelled"])),
        (
            "orders",
            "created",
            "none",
            lambda: f"2026-{rng.randrange(1, 12):02d}-{rng.randrange(1, 28):02d}",
        ),
        ("products", "sku", "none", lambda: f"SKU-{rng.randrange(10**6):06d}"),
        ("address", "postal_code", "none", lambda: f"{rng.randrange(10000, 99999)}"),
        ("inventory", "last_update", "none", lambda: "2006-02-15 05:09:17"),
        ("language", "name", "none", lambda: rng.choice(["English", "Italian", "Japanese"])),
        ("customer", "active", "none", lambda: rng.choice(["1", "0"])),
    ]


def first_held_out(rng: random.Random) -> list[Maker]:
    """The first held-out block (12 columns), written after tuning on the development block.

    It was used to measure, and then (December 2026) to pick the fixes of the second round of
    tuning: since then it is development data too, and the second held-out block
    (:mod:`public_schemas`) is the honest estimate."""
    return [
        (
            "users",
            "contact_email",
            "email",
            lambda: f"{rng.choice(FIRST)}.{rng.choice(LAST)}@Example.COM",
        ),
        ("leads", "phone_number", "phone", lambda: f"202-555-{rng.randrange(100, 199):04d}"),
        ("members", "name", "person-name", lambda: rng.choice(FIRST)),
        ("orders", "card_last4", "none", lambda: f"{rng.randrange(10000):04d}"),
        (
            "hr",
            "national_id",
            "uk-nino",
            lambda: " ".join(nino(rng)[i : i + 2] for i in (0, 2, 4, 6)) + nino(rng)[-1],
        ),
        ("logs", "user_agent", "none", lambda: "Mozilla/5.0 (X11; Linux x86_64)"),
        ("geo", "lat", "none", lambda: f"{rng.uniform(-90, 90):.4f}"),
        ("patients", "allergies", "health", lambda: rng.choice(["penicillin", "peanuts", "latex"])),
        ("customers", "zip", "none", lambda: rng.choice(["SW1A 1AA", "10115", "75008"])),
        (
            "employees",
            "hire_date",
            "none",
            lambda: (
                f"{rng.randrange(1990, 2021)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 28):02d}"
            ),
        ),
        ("accounts", "bic", "none", lambda: rng.choice(["DEUTDEFF", "BNPAFRPP", "NWBKGB2L"])),
        ("devices", "mac", "none", lambda: ":".join(f"{rng.randrange(256):02x}" for _ in range(6))),
    ]
