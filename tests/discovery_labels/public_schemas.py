"""The second held-out block: 58 columns of eight more public sample schemas, messy values.

Written (December 2026) before the second round of classifier changes, committed with its
labels first, and never tuned against. Column names are those of the schemas' published DDL
or documentation:

- Chinook (``Customer``, ``Employee``, ``Invoice``, ``Track``; lerocha/chinook-database),
- the MySQL Employees sample (``employees``, ``titles``, ``departments``; datacharmer/test_db),
- Oracle's HR sample (``EMPLOYEES``, ``LOCATIONS``, ``JOBS``; oracle-samples/db-sample-schemas,
  where ``EMAIL`` holds the mailbox name ``SKING``, not an address),
- the Dell DVD Store 2 (``CUSTOMERS``),
- OpenMRS (``person``, ``person_name``, ``person_address``, ``patient_identifier``, ``obs``),
- the MIMIC-III demo (``patients``, ``admissions``, ``diagnoses_icd``, ``prescriptions``; dates
  shifted into the 2100s and patients over 89 moved 300 years back, as MIMIC publishes them),
- Magento 2 (``customer_entity``, ``customer_address_entity``, ``sales_order``; merchdocs'
  customer attribute reference),
- WooCommerce's order tables (``wc_orders``, ``wc_order_addresses``) and WordPress ``wp_users``,
- Odoo's ``hr_employee`` and ``res_partner_bank``.

Values are synthetic and deliberately untidy: blanks and ``n/a``/``unknown`` junk at varying
rates, mixed formats (dotted, spaced and bracketed phone numbers from a dozen countries; card
numbers with and without separators, some failing Luhn; IBANs of several countries grouped by
four; SSNs with and without dashes; NINOs in upper and lower case), addresses from many
countries (house number first or last, PO boxes, second lines), names of many origins
(particles in lower case, apostrophes, hyphens, single given names), free-text notes where only
some rows hold an e-mail address, and look-alikes labelled ``none`` (EAN-13 barcodes, OpenMRS
identifiers with their own check digit, hire and death dates, job titles and song names shaped
like full names). Labelling rule: a column gets the category of the personal data it holds even
when only part of the rows hold it (notes with e-mail addresses in a quarter of the rows are
``email``); personal data outside the categories (gender, ethnicity, passwords, tax/VAT
numbers, patient identifiers) is ``none``.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from .first_blocks import Maker
from .values import nino, ssn, valid_card, valid_iban

__all__ = ["GIVEN", "SURNAMES", "public_schemas"]

GIVEN = [
    "Aiyana", "Bolat", "Chidi", "Dmitri", "Eun-ji", "Fatima", "Gökhan", "Hoang", "Ifeoma",
    "Jörg", "Kalani", "Leilani", "Mateus", "Nadia", "Oluwaseun", "Priya", "Qiang", "Rania",
    "Siobhán", "Tomasz", "Ulla", "Vikram", "Wanjiru", "Xóchitl", "Yusuf", "Zainab",
    "José Luis", "Mary-Kate", "Luís", "Astrid",
]  # fmt: skip
SURNAMES = [
    "Abubakar", "Bjørnstad", "Chaudhry", "de la Cruz", "van der Merwe", "Ng", "Ó Súilleabháin",
    "Papadopoulos", "Rahman", "Sato", "Wiśniewska", "Yılmaz", "Zhang", "al-Farsi", "MacDonald",
    "Nakamura-Smith", "dos Santos", "Gonçalves", "Kowalczyk", "Okonkwo", "D'Angelo", "Li",
]  # fmt: skip
JUNK = ["", "n/a", "N/A", "unknown", "-", "none", "NULL", "?", "tbd", "0"]
DOMAINS = ["example.com", "mail.example.org", "corp.example.de", "example.co.uk", "uni.example"]
ADDRESSES = [
    "{n} Baker Street",
    "Av. Brigadeiro Faria Lima, {n}",
    "Theodor-Heuss-Straße {n}",
    "Rua Dr. Falcão Filho, {n}",
    "{n} W Pender Street",
    "Klanova {n}/506",
    "Ullevålsveien {n}",
    "{n} Chatham Street",
    "Calle de Alcalá {n}, 3º B",
    "{n}, rue de la Paix",
    "Plot {n} Kampala Road",
    "P.O. Box {n}",
    "{n} Jabberwocky Rd",
    "Via Cola di Rienzo {n}",
    "Flat {n}, 4 Marine Parade",
    "{n} Sukhumvit Soi 11",
    "{n}-2 Nishi-Shinjuku",
    "Schwanthalerstr. {n}",
    "{n} Honey Bluff Parkway",
    "Mariano Escobedo {n}",
]
PHONES = [
    "+55 (12) 3923-{a:04d}",
    "+49 711 28{a:04d}",
    "+1 (604) 688-{a:04d}",
    "+420 2 4172 {a:04d}",
    "515.123.{a:04d}",
    "011.44.1344.42{a:04d}",
    "+44 20 7946 {a:04d}",
    "+33 1 42 68 {b:02d} {c:02d}",
    "+81 3-1234-{a:04d}",
    "+254 712 34{a:04d}",
    "(202) 555-{a:04d}",
    "+91 98765 4{a:04d}",
    "+61 2 9876 {a:04d}",
    "0{b:02d} 12 34 {c:02d}",
]
DIAGNOSES = [
    "SEPSIS",
    "PNEUMONIA",
    "CONGESTIVE HEART FAILURE",
    "CORONARY ARTERY DISEASE\\CORONARY ARTERY BYPASS GRAFT /SDA",
    "GI BLEED",
    "ABDOMINAL PAIN",
    "S/P FALL",
    "ALTERED MENTAL STATUS",
    "FEVER",
    "CHEST PAIN",
    "UPPER GI BLEED",
    "INTRACRANIAL HEMORRHAGE",
    "ACUTE RENAL FAILURE",
    "HYPOTENSION",
    "STEMI",
]
ICD9 = ["4019", "4280", "42731", "41401", "5849", "25000", "2724", "51881", "5990", "V053"]
DRUGS = [
    "Potassium Chloride",
    "Insulin",
    "Furosemide",
    "Sodium Chloride 0.9%  Flush",
    "Heparin",
    "Metoprolol Tartrate",
    "Acetaminophen",
    "Docusate Sodium",
    "Vancomycin",
    "Pantoprazole",
    "Magnesium Sulfate",
    "D5W",
]
OBS_TEXT = [
    "Patient reports chest pain on exertion",
    "follow up in 2 weeks",
    "referred to nutritionist",
    "BP elevated, recheck next visit",
    "on ART since 2019, adherence good",
    "cough x 3 weeks, sputum sent for AFB",
    "malaria RDT positive",
    "no complaints",
    "mother counselled on breastfeeding",
    "TB screening negative",
]


def _messy(rng: random.Random, junk_rate: float, make: Callable[[], str]) -> Callable[[], str]:
    """``make``, but a share of the rows is blank or placeholder junk."""
    return lambda: rng.choice(JUNK) if rng.random() < junk_rate else make()


def public_schemas(rng: random.Random) -> list[Maker]:
    """The second held-out block (58 columns)."""

    def given() -> str:
        return rng.choice(GIVEN)

    def surname() -> str:
        return rng.choice(SURNAMES)

    def full_name() -> str:
        return f"{given()} {surname()}"

    def email() -> str:
        local = rng.choice(
            [
                f"{given().lower().replace(' ', '.')}.{rng.randrange(99)}",
                f"{given()[0].lower()}{rng.randrange(10**4)}",
                f"{given()}.{surname()}".replace(" ", ""),
            ]
        )
        return f"{local}@{rng.choice(DOMAINS)}"

    def address() -> str:
        return rng.choice(ADDRESSES).format(n=rng.randrange(1, 3000))

    def phone() -> str:
        a, b, c = rng.randrange(10000), rng.randrange(1, 99), rng.randrange(100)
        return rng.choice(PHONES).format(a=a, b=b, c=c)

    def day(first: int, last: int) -> str:
        return f"{rng.randrange(first, last)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"

    def midnight(first: int, last: int) -> str:
        return day(first, last) + " 00:00:00"

    def card() -> str:
        number = rng.choice(
            [valid_card(rng), valid_card(rng, "51"), valid_card(rng, "37", 15), valid_card(rng)]
        )
        if rng.random() < 0.1:  # a mistyped digit: fails Luhn
            number = number[:-1] + str((int(number[-1]) + 1) % 10)
        style = rng.random()
        if style < 0.4:
            return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
        if style < 0.6:
            return "-".join(number[i : i + 4] for i in range(0, len(number), 4))
        return number

    def iban() -> str:
        number = valid_iban(rng, rng.choice(["DE", "FR", "NL", "ES", "IT", "BE", "GB"]))
        if rng.random() < 0.5:
            return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
        return number

    def any_ssn() -> str:
        number = ssn(rng)
        return number.replace("-", "") if rng.random() < 0.4 else number

    def any_nino() -> str:
        number = nino(rng)
        spaced = " ".join(number[i : i + 2] for i in (0, 2, 4, 6)) + " " + number[-1]
        return rng.choice([number, spaced, number.lower()])

    def ip() -> str:
        if rng.random() < 0.3:
            return f"2a02:{rng.randrange(16**4):x}:{rng.randrange(16**4):x}::{rng.randrange(99)}"
        return ".".join(str(rng.randrange(1, 255)) for _ in range(4))

    def note_with_email() -> str:
        if rng.random() < 0.25:
            return rng.choice(["send invoice to ", "contact: ", "cc "]) + email()
        return rng.choice(
            ["leave at door", "please call before delivery", "gift wrap", "", "ring twice"]
        )

    def ean13() -> str:
        digits = [rng.randrange(10) for _ in range(12)]
        check = (10 - sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
        return "".join(map(str, digits)) + str(check)

    def openmrs_id() -> str:
        return f"{rng.randrange(100, 99999)}{rng.choice('0123456789ACDEFGHJKLMNPRTUVWXY')}"

    def display_name() -> str:
        return full_name() if rng.random() < 0.7 else f"{given().lower()[:5]}{rng.randrange(99)}"

    def child_or_adult() -> str:
        return day(2012, 2025) if rng.random() < 0.3 else day(1935, 2005)

    def mimic_dob() -> str:
        return midnight(1800, 1830) if rng.random() < 0.1 else midnight(2040, 2140)

    m = _messy
    return [
        # Chinook
        ("Customer", "FirstName", "person-name", given),
        ("Customer", "LastName", "person-name", surname),
        (
            "Customer",
            "Company",
            "none",
            m(rng, 0.6, lambda: rng.choice(["Embraer S.A.", "JetBrains s.r.o.", "Apple Inc."])),
        ),
        ("Customer", "Address", "postal-address", address),
        ("Customer", "PostalCode", "none", lambda: rng.choice(["12227-000", "70174", "H2G 1A7"])),
        ("Customer", "Phone", "phone", m(rng, 0.05, phone)),
        ("Customer", "Fax", "phone", m(rng, 0.5, phone)),
        ("Customer", "Email", "email", email),
        ("Employee", "BirthDate", "date-of-birth", lambda: midnight(1940, 2000)),
        ("Employee", "HireDate", "none", lambda: midnight(1995, 2024)),
        ("Invoice", "BillingAddress", "postal-address", address),
        ("Invoice", "Total", "none", lambda: f"{rng.randrange(1, 30)}.{rng.randrange(100):02d}"),
        (
            "Track",
            "Name",
            "none",
            lambda: rng.choice(["Balls To The Wall", "Restless And Wild", "Princess Of The Dawn"]),
        ),
        # MySQL Employees sample
        ("employees", "birth_date", "date-of-birth", lambda: day(1952, 1966)),
        ("employees", "gender", "none", lambda: rng.choice(["M", "F"])),
        ("titles", "from_date", "none", lambda: day(1985, 2003)),
        (
            "departments",
            "dept_name",
            "none",
            lambda: rng.choice(["Customer Service", "Human Resources", "Quality Management"]),
        ),
        # Oracle HR
        (
            "EMPLOYEES",
            "EMAIL",
            "email",
            lambda: (given()[0] + surname()).upper().replace(" ", "")[:8],
        ),
        ("EMPLOYEES", "PHONE_NUMBER", "phone", phone),
        ("EMPLOYEES", "COMMISSION_PCT", "none", m(rng, 0.7, lambda: f".{rng.randrange(1, 4)}")),
        ("LOCATIONS", "STREET_ADDRESS", "postal-address", address),
        (
            "JOBS",
            "JOB_TITLE",
            "none",
            lambda: rng.choice(["Sales Manager", "Finance Manager", "Stock Clerk", "President"]),
        ),
        # Dell DVD Store 2
        ("CUSTOMERS", "CREDITCARD", "payment-card", m(rng, 0.05, card)),
        (
            "CUSTOMERS",
            "CREDITCARDEXPIRATION",
            "none",
            lambda: f"{rng.randrange(2008, 2031)}/{rng.randrange(1, 13):02d}",
        ),
        ("CUSTOMERS", "ZIP", "none", lambda: f"{rng.randrange(10**4, 10**5)}"),
        ("CUSTOMERS", "ADDRESS1", "postal-address", address),
        ("CUSTOMERS", "PASSWORD", "none", lambda: rng.choice(["password", "Tr0ub4dor&3", "x"])),
        ("CUSTOMERS", "INCOME", "none", lambda: str(rng.randrange(2, 11) * 20000)),
        # OpenMRS
        ("person", "birthdate", "date-of-birth", lambda: child_or_adult() + " 00:00:00"),
        ("person_name", "given_name", "person-name", given),
        ("person_name", "family_name", "person-name", m(rng, 0.1, surname)),
        ("person_address", "address1", "postal-address", m(rng, 0.2, address)),
        ("person_address", "city_village", "none", lambda: rng.choice(["Eldoret", "Mbarara"])),
        ("patient_identifier", "identifier", "none", openmrs_id),
        ("obs", "value_text", "health", m(rng, 0.2, lambda: rng.choice(OBS_TEXT))),
        # MIMIC-III demo
        ("patients", "dob", "date-of-birth", mimic_dob),
        ("patients", "dod", "none", m(rng, 0.6, lambda: midnight(2100, 2200))),
        ("admissions", "diagnosis", "health", lambda: rng.choice(DIAGNOSES)),
        (
            "admissions",
            "insurance",
            "none",
            lambda: rng.choice(["Medicare", "Private", "Self Pay"]),
        ),
        ("diagnoses_icd", "icd9_code", "health", lambda: rng.choice(ICD9)),
        ("prescriptions", "drug", "health", lambda: rng.choice(DRUGS)),
        # Magento 2
        ("customer_entity", "taxvat", "none", m(rng, 0.5, lambda: f"DE{rng.randrange(10**9)}")),
        ("customer_address_entity", "telephone", "phone", m(rng, 0.1, phone)),
        ("customer_address_entity", "street", "postal-address", address),
        ("sales_order", "remote_ip", "ip-address", ip),
        ("sales_order", "customer_note", "email", note_with_email),
        ("sales_order", "customer_dob", "date-of-birth", m(rng, 0.7, lambda: day(1940, 2006))),
        # WooCommerce / WordPress
        ("wp_users", "display_name", "person-name", display_name),
        ("wp_users", "user_registered", "none", lambda: day(2015, 2026) + " 10:22:13"),
        ("wc_orders", "ip_address", "ip-address", m(rng, 0.1, ip)),
        (
            "wc_orders",
            "transaction_id",
            "none",
            lambda: f"pi_3N{rng.randrange(16**12):012x}",
        ),
        # Odoo HR and banking
        ("hr_employee", "ssnid", "us-ssn", m(rng, 0.3, any_ssn)),
        ("hr_employee", "identification_id", "uk-nino", any_nino),
        ("hr_employee", "barcode", "none", ean13),
        ("hr_employee", "private_email", "email", m(rng, 0.2, email)),
        ("hr_employee", "emergency_phone", "phone", m(rng, 0.3, phone)),
        ("hr_employee", "km_home_work", "none", lambda: str(rng.randrange(0, 80))),
        ("res_partner_bank", "acc_number", "iban", iban),
    ]
