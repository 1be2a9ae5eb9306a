"""The hand-written part of the sample organisation: departments, groups, resources and the
people, accounts and grants that carry the planted problems (and their near misses).

Everything here is data. The bulk of the organisation is generated around it in
:mod:`accessaudit.sample._generate`; the cast keeps fixed logins so that a planted problem can be
named, and checked, by the subject an auditor reads in the report.

Days are relative to the audit date (``as_of``): ``-30`` is thirty days before it.
"""

# ruff: noqa: E501  (data tables read best one row per line)

from __future__ import annotations

from dataclasses import dataclass

DOMAIN_DNS = "corp.example.com"
DOMAIN_DN = "DC=corp,DC=example,DC=com"
NETBIOS = "CORP"
#: The domain SID's three sub-authorities after 21 (S-1-5-21-a-b-c-RID).
DOMAIN_SUBAUTHORITIES = (2127521184, 1604012920, 1887927527)
DOMAIN_SID = "S-1-5-21-" + "-".join(str(part) for part in DOMAIN_SUBAUTHORITIES)
#: A trusted partner forest; its principals appear only as foreign security principals.
PARTNER_SID = "S-1-5-21-1111111111-2222222222-3333333333"
MAIL_DOMAIN = "example.com"
FS = r"\\fs01"


@dataclass(frozen=True)
class Department:
    """A department: HR name, group suffix, share of the bulk population and its titles.

    ``titles`` are (title, share, role group or ""); a role group is what AGDLP hangs the
    title's entitlements on.
    """

    name: str
    short: str
    weight: float
    head_title: str
    manager_title: str
    titles: tuple[tuple[str, float, str], ...]
    contractor_share: float = 0.0
    vendor_share: float = 0.0


#: The bulk departments. Contractors and vendors only work where the department's own data is
#: at most internal, so that third-party findings come from the cast alone.
DEPARTMENTS: tuple[Department, ...] = (
    Department(
        "Finance",
        "Finance",
        0.12,
        "Chief Financial Officer",
        "Finance Manager",
        (
            ("Accountant", 0.35, ""),
            ("Accounts Payable Specialist", 0.25, "G-Accounts-Payable"),
            ("Treasury Analyst", 0.15, "G-Treasury"),
            ("Financial Analyst", 0.25, ""),
        ),
    ),
    Department(
        "Human Resources",
        "HR",
        0.05,
        "Chief People Officer",
        "HR Manager",
        (
            ("HR Generalist", 0.4, ""),
            ("Recruiter", 0.3, "G-Recruiting"),
            ("Payroll Specialist", 0.3, "G-Payroll"),
        ),
    ),
    Department(
        "Legal",
        "Legal",
        0.03,
        "General Counsel",
        "Legal Operations Manager",
        (
            ("Counsel", 0.45, "G-Legal-Counsel"),
            ("Paralegal", 0.35, ""),
            ("Contracts Manager", 0.2, ""),
        ),
    ),
    Department(
        "IT",
        "IT",
        0.08,
        "Chief Information Officer",
        "IT Manager",
        (
            ("Service Desk Analyst", 0.4, "G-Helpdesk"),
            ("Systems Administrator", 0.25, "G-IT-Servers"),
            ("Network Engineer", 0.15, "G-IT-Servers"),
            ("Security Analyst", 0.2, "G-Security"),
        ),
        contractor_share=0.12,
        vendor_share=0.03,
    ),
    Department(
        "Engineering",
        "Engineering",
        0.22,
        "VP Engineering",
        "Engineering Manager",
        (
            ("Software Engineer", 0.55, ""),
            ("Senior Software Engineer", 0.3, "G-Eng-Prod-Read"),
            ("QA Engineer", 0.15, ""),
        ),
        contractor_share=0.10,
    ),
    Department(
        "Sales",
        "Sales",
        0.13,
        "VP Sales",
        "Sales Manager",
        (
            ("Account Executive", 0.5, ""),
            ("Sales Development Representative", 0.3, ""),
            ("Sales Operations Analyst", 0.2, "G-Sales-Ops"),
        ),
    ),
    Department(
        "Marketing",
        "Marketing",
        0.07,
        "VP Marketing",
        "Marketing Manager",
        (("Marketing Specialist", 0.5, ""), ("Content Writer", 0.25, ""), ("Designer", 0.25, "")),
        contractor_share=0.10,
        vendor_share=0.05,
    ),
    Department(
        "Clinical Operations",
        "Clinical",
        0.14,
        "VP Clinical Operations",
        "Clinical Operations Manager",
        (
            ("Clinical Research Associate", 0.5, ""),
            ("Clinical Data Manager", 0.25, "G-Clinical-Data"),
            ("Study Coordinator", 0.25, ""),
        ),
    ),
    Department(
        "Customer Support",
        "Support",
        0.16,
        "VP Customer Support",
        "Support Manager",
        (("Support Agent", 0.75, ""), ("Support Team Lead", 0.25, "G-Support-Leads")),
        contractor_share=0.08,
        vendor_share=0.05,
    ),
)

#: Departments that exist only in the cast; both are smaller than the policy's peer_min_size.
SMALL_DEPARTMENTS: dict[str, str] = {
    "Executive Office": "Executive",
    "Internal Audit": "Internal-Audit",
}

# --- groups ------------------------------------------------------------------------------

GLOBAL_SECURITY = -2147483646
DOMAIN_LOCAL_SECURITY = -2147483644
BUILTIN_LOCAL = -2147483643
UNIVERSAL_SECURITY = -2147483640
UNIVERSAL_DISTRIBUTION = 8


@dataclass(frozen=True)
class GroupSpec:
    """A group of the domain. ``rid`` for the well-known domain groups, ``builtin_rid`` for
    BUILTIN (S-1-5-32-x); custom groups get RIDs in order."""

    name: str
    container: str
    description: str
    group_type: int = GLOBAL_SECURITY
    rid: int = 0
    builtin_rid: int = 0
    protected: bool = False
    managed_by: str = ""


_USERS_CN = "CN=Users"
_BUILTIN_CN = "CN=Builtin"
_ROLE_OU = "OU=Role Groups,OU=Groups,OU=Corp"
_RESOURCE_OU = "OU=Resource Groups,OU=Groups,OU=Corp"
_ADMIN_OU = "OU=Tier 0,OU=Admin,OU=Corp"
_APP_OU = "OU=Application Groups,OU=Groups,OU=Corp"

WELL_KNOWN_GROUPS: tuple[GroupSpec, ...] = (
    GroupSpec("Domain Admins", _USERS_CN, "Designated administrators of the domain", rid=512, protected=True),
    GroupSpec("Domain Users", _USERS_CN, "All domain users", rid=513),
    GroupSpec("Domain Guests", _USERS_CN, "All domain guests", rid=514),
    GroupSpec("Domain Computers", _USERS_CN, "All workstations and servers joined to the domain", rid=515),
    GroupSpec(
        "Schema Admins", _USERS_CN, "Designated administrators of the schema",
        group_type=UNIVERSAL_SECURITY, rid=518, protected=True,
    ),
    GroupSpec(
        "Enterprise Admins", _USERS_CN, "Designated administrators of the enterprise",
        group_type=UNIVERSAL_SECURITY, rid=519, protected=True,
    ),
    GroupSpec(
        "Administrators", _BUILTIN_CN,
        "Administrators have complete and unrestricted access to the computer/domain",
        group_type=BUILTIN_LOCAL, builtin_rid=544, protected=True,
    ),
    GroupSpec(
        "Account Operators", _BUILTIN_CN, "Members can administer domain user and group accounts",
        group_type=BUILTIN_LOCAL, builtin_rid=548, protected=True,
    ),
    GroupSpec(
        "Backup Operators", _BUILTIN_CN,
        "Backup Operators can override security restrictions for the sole purpose of backing up or restoring files",
        group_type=BUILTIN_LOCAL, builtin_rid=551, protected=True,
    ),
    GroupSpec(
        "Guests", _BUILTIN_CN, "Guests have the same access as members of the Users group by default",
        group_type=BUILTIN_LOCAL, builtin_rid=546,
    ),
    GroupSpec(
        "Remote Desktop Users", _BUILTIN_CN, "Members in this group are granted the right to logon remotely",
        group_type=BUILTIN_LOCAL, builtin_rid=555,
    ),
)  # fmt: skip


def department_groups() -> tuple[GroupSpec, ...]:
    """One global group per department (``G-Finance``), holding its people."""
    names = [(d.name, d.short) for d in DEPARTMENTS] + list(SMALL_DEPARTMENTS.items())
    return tuple(
        GroupSpec(f"G-{short}", "OU=Department Groups,OU=Groups,OU=Corp", f"All staff of {name}")
        for name, short in names
    )


CUSTOM_GROUPS: tuple[GroupSpec, ...] = (
    GroupSpec("IT-Tier0", _ADMIN_OU, "Tier 0 administrators (nested into Domain Admins)", managed_by="praman"),
    GroupSpec("G-Accounts-Payable", _ROLE_OU, "Accounts payable team"),
    GroupSpec("G-Treasury", _ROLE_OU, "Treasury team"),
    GroupSpec("G-Recruiting", _ROLE_OU, "Recruiting team"),
    GroupSpec("G-Payroll", _ROLE_OU, "Payroll team"),
    GroupSpec("G-Legal-Counsel", _ROLE_OU, "Counsel"),
    GroupSpec("G-Helpdesk", _ROLE_OU, "Service desk"),
    GroupSpec("G-IT-Servers", _ROLE_OU, "Server and network operations"),
    GroupSpec("G-Security", _ROLE_OU, "Security operations"),
    GroupSpec("G-Eng-Prod-Read", _ROLE_OU, "Engineers who may read production logs"),
    GroupSpec("G-Sales-Ops", _ROLE_OU, "Sales operations"),
    GroupSpec("G-Clinical-Data", _ROLE_OU, "Clinical data management"),
    GroupSpec("G-Support-Leads", _ROLE_OU, "Support team leads"),
    GroupSpec("G-Audit-Evidence", _ROLE_OU, "Internal audit evidence locker"),
    GroupSpec("G-Marketing-All", _ROLE_OU, "Marketing distribution (nested both ways with G-Marketing)"),
    GroupSpec("AP-Invoice-Entry", _APP_OU, "ERP role: enter and approve supplier invoices", managed_by="cfo"),
    GroupSpec("AP-Payment-Release", _APP_OU, "ERP role: release payment runs to the bank", managed_by="cfo"),
    GroupSpec("DL-FS-Finance-RW", _RESOURCE_OU, r"Modify on \\fs01\finance", DOMAIN_LOCAL_SECURITY),
    GroupSpec("DL-FS-Finance-RO", _RESOURCE_OU, r"Read on \\fs01\finance", DOMAIN_LOCAL_SECURITY),
    GroupSpec("DL-FS-HR-RW", _RESOURCE_OU, r"Modify on \\fs01\hr", DOMAIN_LOCAL_SECURITY),
    GroupSpec("DL-FS-Legal-RW", _RESOURCE_OU, r"Modify on \\fs01\legal", DOMAIN_LOCAL_SECURITY),
    GroupSpec("DL-FS-Legal-RO", _RESOURCE_OU, r"Read on \\fs01\legal", DOMAIN_LOCAL_SECURITY),
    GroupSpec("DL-FS-Clinical-RW", _RESOURCE_OU, r"Modify on \\fs01\clinical", DOMAIN_LOCAL_SECURITY),
    GroupSpec("DL-FS-Clinical-Trials-RW", _RESOURCE_OU, r"Modify on \\fs01\clinical\Trials", DOMAIN_LOCAL_SECURITY),
    GroupSpec("DL-FS-Payments-RW", _RESOURCE_OU, r"Modify on \\fs01\payments", DOMAIN_LOCAL_SECURITY),
    GroupSpec(
        "DL-FS-Payments-FullControl", _RESOURCE_OU, r"Full control on \\fs01\payments (PCI)",
        DOMAIN_LOCAL_SECURITY,
    ),
    GroupSpec("DL-FS-Marketing-RW", _RESOURCE_OU, r"Modify on \\fs01\marketing", DOMAIN_LOCAL_SECURITY),
    GroupSpec("DL-FS-IT-RW", _RESOURCE_OU, r"Modify on \\fs01\it", DOMAIN_LOCAL_SECURITY),
    GroupSpec("DL-FS-Support-RW", _RESOURCE_OU, r"Modify on \\fs01\support", DOMAIN_LOCAL_SECURITY),
    GroupSpec("DL-DB-Payroll-RW", _RESOURCE_OU, "Read/write on the payroll database", DOMAIN_LOCAL_SECURITY),
    GroupSpec("DL-DB-Payroll-RO", _RESOURCE_OU, "Read on the payroll database", DOMAIN_LOCAL_SECURITY),
    GroupSpec("DL-DB-Payroll-Owner", _RESOURCE_OU, "db_owner on the payroll database", DOMAIN_LOCAL_SECURITY),
    GroupSpec("DL-DB-CRM-RW", _RESOURCE_OU, "CRM users", DOMAIN_LOCAL_SECURITY),
    GroupSpec("DL-DB-CRM-Admin", _RESOURCE_OU, "CRM administrators", DOMAIN_LOCAL_SECURITY),
    GroupSpec("DL-DB-Billing-RO", _RESOURCE_OU, "Read on the legacy billing archive", DOMAIN_LOCAL_SECURITY),
    GroupSpec("VPN-Users", _ROLE_OU, "Remote access VPN"),
    GroupSpec("All-Staff", "OU=Distribution,OU=Groups,OU=Corp", "Everyone (mail)", UNIVERSAL_DISTRIBUTION),
)  # fmt: skip

#: group -> groups it is a member of (AGDLP: accounts -> global -> domain local -> permission).
NESTING: tuple[tuple[str, str], ...] = (
    ("G-Finance", "DL-FS-Finance-RW"),
    ("G-Internal-Audit", "DL-FS-Finance-RO"),
    ("G-Internal-Audit", "DL-DB-Payroll-RO"),
    ("G-HR", "DL-FS-HR-RW"),
    ("G-Legal", "DL-FS-Legal-RW"),
    ("G-Executive", "DL-FS-Legal-RO"),
    ("G-Clinical", "DL-FS-Clinical-RW"),
    ("G-Clinical-Data", "DL-FS-Clinical-Trials-RW"),
    ("G-Marketing", "DL-FS-Marketing-RW"),
    # a cycle, as real directories have them; effective membership must tolerate it
    ("G-Marketing", "G-Marketing-All"),
    ("G-Marketing-All", "G-Marketing"),
    ("G-IT", "DL-FS-IT-RW"),
    ("G-IT-Servers", "Remote Desktop Users"),
    ("G-Support", "DL-FS-Support-RW"),
    ("G-Treasury", "DL-FS-Payments-RW"),
    ("G-Treasury", "AP-Payment-Release"),
    ("G-Accounts-Payable", "AP-Invoice-Entry"),
    ("G-Accounts-Payable", "DL-DB-Billing-RO"),
    ("G-Payroll", "DL-DB-Payroll-RW"),
    ("G-Sales", "DL-DB-CRM-RW"),
    ("G-Sales-Ops", "DL-DB-CRM-Admin"),
    # the nested path into Domain Admins, and the built-in nesting of a real domain
    ("IT-Tier0", "Domain Admins"),
    ("Domain Admins", "Administrators"),
    ("Enterprise Admins", "Administrators"),
    ("Domain Guests", "Guests"),
)

FOREIGN_MEMBER = f"CN={PARTNER_SID}-1201,CN=ForeignSecurityPrincipals,{DOMAIN_DN}"

# --- the cast ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CastPerson:
    """A named person of the HR roster. ``manager`` is a cast login, or ``"head"`` for the
    department head, or ``""`` for none (the CEO)."""

    login: str
    name: str
    department: str
    title: str
    start: int
    worker_type: str = "employee"
    status: str = "active"
    end: int | None = None
    manager: str = "head"
    # HR history and contract facts (days relative to as_of): the lifecycle plants.
    moved_from: str = ""
    moved: int | None = None
    contract_end: int | None = None
    rehired: int | None = None


CAST_PEOPLE: tuple[CastPerson, ...] = (
    CastPerson("mhale", "Margaret Hale", "Executive Office", "Chief Executive Officer", -3900, manager=""),
    CastPerson("dokoro", "Daniel Okoro", "Executive Office", "Chief Operating Officer", -2900, manager="mhale"),
    CastPerson("lfernandes", "Lucy Fernandes", "Executive Office", "Executive Assistant", -1200, manager="mhale"),
    CastPerson("rkerr", "Rosalind Kerr", "Internal Audit", "Head of Internal Audit", -2000, manager="mhale"),
    CastPerson("tengel", "Tobias Engel", "Internal Audit", "Internal Auditor", -800, manager="rkerr"),
    CastPerson("msato", "Mina Sato", "Internal Audit", "Internal Auditor", -400, manager="rkerr"),
    CastPerson("praman", "Priya Raman", "IT", "IT Infrastructure Manager", -2600),
    CastPerson("twojcik", "Tomasz Wójcik", "IT", "Systems Administrator", -1900, manager="praman"),
    CastPerson("kmarsh", "Kevin Marsh", "IT", "Systems Administrator", -700, manager="praman"),
    CastPerson("dwhitfield", "Dana Whitfield", "IT", "Service Desk Analyst", -500, manager="praman"),
    CastPerson("ogrant", "Oliver Grant", "IT", "Security Analyst", -1500, manager="praman"),
    CastPerson("rpatel", "Raj Patel", "IT", "Network Engineer", -2200, status="terminated", end=-40, manager="praman"),
    CastPerson("ksullivan", "Kate Sullivan", "IT", "Systems Administrator", -40, worker_type="contractor", end=120, contract_end=25, manager="praman"),
    CastPerson("jdoe", "John Doe", "Finance", "Accountant", -1400),
    CastPerson("msantos", "Maria Santos", "Finance", "Accounts Payable Specialist", -1100),
    CastPerson("hlarsen", "Henrik Larsen", "Finance", "Treasury Analyst", -2400),
    CastPerson("tbecker", "Tom Becker", "Finance", "Accounts Payable Specialist", -900),
    CastPerson("gkim", "Grace Kim", "Finance", "Accounts Payable Specialist", -600, rehired=-400),
    CastPerson("ahassan", "Ahmed Hassan", "Finance", "Treasury Manager", -3000),
    CastPerson("lvogel", "Lena Vogel", "Finance", "Financial Analyst", -30),
    CastPerson("cdubois", "Chloé Dubois", "Finance", "Accountant", -200, worker_type="contractor", end=160),
    CastPerson("vchen", "Victor Chen", "Finance", "Accountant", -1700, end=12),
    CastPerson("nkowalski", "Nina Kowalski", "Finance", "Treasury Analyst", -1300, status="terminated", end=-120),
    CastPerson("srossi", "Sofia Rossi", "Human Resources", "Payroll Specialist", -1000),
    CastPerson("zclarke", "Zoë Clarke", "Human Resources", "HR Generalist", -1600, status="leave"),
    CastPerson("flefevre", "François Lefèvre", "Legal", "Counsel", -1250),
    CastPerson("sokafor", "Samuel Okafor", "Legal", "Deputy General Counsel", -3300, status="terminated", end=-200),
    CastPerson("lnowak", "Łukasz Nowak", "Engineering", "Senior Software Engineer", -1800, moved_from="Finance", moved=-120),
    CastPerson("pnguyen", "Paul Nguyen", "Engineering", "Software Engineer", 20),
    CastPerson("bfoster", "Brian Foster", "Sales", "Account Executive", -1300, status="terminated", end=-60),
    CastPerson("gholt", "Gary Holt", "Sales", "Account Executive", -2100),
    CastPerson("wpark", "Wendy Park", "Sales", "Sales Operations Analyst", -1000, rehired=-200),
    CastPerson("dlin", "Derek Lin", "Sales", "Account Executive", -750),
    CastPerson("mreed", "Marcus Reed", "Sales", "Account Executive", -1500, moved_from="Human Resources", moved=-20),
    CastPerson("ecarter", "Emily Carter", "Marketing", "Marketing Specialist", -1200, moved_from="Finance", moved=-200),
    CastPerson("iwalsh", "Irene Walsh", "Marketing", "Content Writer", -900),
    CastPerson("lmartins", "Leo Martins", "Marketing", "Designer", -100, worker_type="contractor", end=200, contract_end=-15),
    CastPerson("npetrova", "Nadia Petrova", "Clinical Operations", "Clinical Research Associate", -1000, status="terminated", end=-10),
    CastPerson("ihorvat", "Ivan Horvat", "Clinical Operations", "Clinical Data Consultant", -300, worker_type="vendor", end=65, contract_end=20),
    CastPerson("rlee", "Rachel Lee", "Clinical Operations", "Clinical Data Manager", -1450),
    CastPerson("hbrooks", "Helen Brooks", "Customer Support", "Support Agent", -900, status="terminated", end=-100),
    CastPerson("astone", "Amelia Stone", "Customer Support", "Support Agent", -2),
)  # fmt: skip

#: Logins of people long gone: no one in HR may have them (adm.jmiller must stay an orphan).
GONE_LOGINS: tuple[str, ...] = ("jmiller",)

#: Movers: HR now has them in a new department; their old department's group stayed.
#: dlin's move (Human Resources, Payroll Specialist -> Sales) is in no HR history: only the
#: previous quarter's roster (PREVIOUS_QUARTER) shows it; his G-Payroll is that old job's.
MOVERS: dict[str, str] = {"lnowak": "G-Finance", "ecarter": "G-Finance", "mreed": "G-HR"}
#: How the previous quarter's roster differs for people HR records no move for:
#: login -> (department, title) then.
PREVIOUS_QUARTER_DAYS = 91
PREVIOUS_ROLES: dict[str, tuple[str, str]] = {"dlin": ("Human Resources", "Payroll Specialist")}
#: Legal holds of the sample policy: (person login, resource name, matter, since, until, owner
#: login); days relative to as_of, until None = until released.
HOLDS: tuple[tuple[str, str, str, int, int | None, str], ...] = (
    ("sokafor", "", "Okafor v. Example Corp (employment tribunal)", -180, None, "flefevre"),
    ("", "s3-exports-2019", "CMA information request 2026-114", -60, None, "flefevre"),
    ("", "legacy-billing", "Billing dispute with Northwind (settled)", -400, -10, "flefevre"),
)


@dataclass(frozen=True)
class CastAccount:
    """An AD account of the cast. ``owner`` is the login of the person it belongs to (its
    employeeID is theirs when ``employee_id`` is true). ``logon`` is days relative to as_of
    (None = never); ``created`` likewise (default: a week before the owner started)."""

    login: str
    kind: str = "user"
    owner: str = ""
    employee_id: bool = True
    enabled: bool = True
    logon: int | None = -1
    created: int | None = None
    never_expires: bool = False
    display_name: str = ""
    description: str = ""
    container: str = ""


_SVC = "OU=Service Accounts,OU=Corp"
_ADM = "OU=Admin Accounts,OU=Admin,OU=Corp"

#: Accounts whose attributes differ from the defaults of their person (or that have no person).
CAST_ACCOUNTS: tuple[CastAccount, ...] = (
    CastAccount("rpatel", owner="rpatel", enabled=False, logon=-41),
    CastAccount("nkowalski", owner="nkowalski", enabled=False, logon=-121),
    CastAccount("hbrooks", owner="hbrooks", enabled=False, logon=-101),
    CastAccount("bfoster", owner="bfoster", logon=-20),
    CastAccount("npetrova", owner="npetrova", logon=-11),
    CastAccount("sokafor", owner="sokafor", logon=-210),
    CastAccount("gholt", owner="gholt", logon=-150),
    CastAccount("iwalsh", owner="iwalsh", logon=-95),
    CastAccount("pnguyen", owner="pnguyen", logon=None, created=-60),
    CastAccount("astone", owner="astone", logon=None, created=-5),
    CastAccount("zclarke", owner="zclarke", logon=-50),
    CastAccount("wpark", owner="wpark", never_expires=True),
    CastAccount("gkim", owner="gkim", created=-402),  # made for her return (rehire)
    CastAccount("rlee", owner="rlee", never_expires=True),
    CastAccount("ahassan", owner="ahassan", logon=-60),
    # a second, older account of the same person (old naming convention)
    CastAccount("larsenh", owner="hlarsen", logon=-9, created=-2300, display_name="Henrik Larsen (old)"),
    # admin accounts of IT staff: some carry the owner's employeeID, some only the login
    CastAccount("adm.praman", "admin", "praman", logon=-1, container=_ADM),
    CastAccount("adm.twojcik", "admin", "twojcik", employee_id=False, logon=-45, container=_ADM),
    CastAccount("adm.kmarsh", "admin", "kmarsh", logon=-3, container=_ADM),
    CastAccount("adm.ogrant", "admin", "ogrant", employee_id=False, logon=-33, never_expires=True, container=_ADM),
    CastAccount("adm.rpatel", "admin", "rpatel", enabled=False, logon=-42, container=_ADM),
    CastAccount("adm.jmiller", "admin", "", employee_id=False, logon=-5, created=-2500, display_name="adm.jmiller", container=_ADM),
    # accounts without a person
    CastAccount("temp.audit", "user", "", employee_id=False, logon=-30, created=-90, display_name="Temp Audit", description="External auditors FY2026 fieldwork"),
    CastAccount("test.user", "user", "", employee_id=False, logon=-20, created=-800, display_name="Test User", description="UAT testing"),
    CastAccount("svc-backup", "service", "", employee_id=False, logon=-1, created=-3000, never_expires=True, description="Veeam backup service", container=_SVC),
    CastAccount("svc-sql", "service", "", employee_id=False, logon=-1, created=-2800, never_expires=True, description="SQL Server service (sqlprod01)", container=_SVC),
    CastAccount("svc-payroll", "service", "", employee_id=False, logon=-1, created=-2000, never_expires=True, description="Payroll application", container=_SVC),
    CastAccount("svc-audit", "service", "", employee_id=False, logon=-1, created=-30, description="Read-only bind account for accessaudit", container=_SVC),
    CastAccount("svc-legacy-ftp", "service", "", employee_id=False, logon=-400, created=-3200, never_expires=True, description="Legacy FTP transfer (decommission pending)", container=_SVC),
    CastAccount("svc-old-backup", "service", "", employee_id=False, enabled=False, logon=-700, created=-3600, never_expires=True, description="Old Backup Exec service", container=_SVC),
    CastAccount("gmsa-sql01$", "gmsa", "", employee_id=False, logon=-1, created=-900, display_name="", description="gMSA for SQL Server on sqlprod01", container="CN=Managed Service Accounts"),
    CastAccount("shared.finance", "shared", "", employee_id=False, enabled=False, logon=None, created=-2000, display_name="Finance Shared Mailbox", description="Shared mailbox finance@example.com", container="OU=Shared Mailboxes,OU=Corp"),
    CastAccount("krbtgt", "builtin", "", employee_id=False, enabled=False, logon=None, created=-4000, description="Key Distribution Center Service Account", container="CN=Users"),
    CastAccount("Guest", "builtin", "", employee_id=False, enabled=False, logon=None, created=-4000, never_expires=True, description="Built-in account for guest access to the computer/domain", container="CN=Users"),
)  # fmt: skip

#: Direct memberships of the cast: (group, member login or group name).
CAST_MEMBERSHIPS: tuple[tuple[str, str], ...] = (
    ("IT-Tier0", "adm.praman"),
    ("IT-Tier0", "adm.twojcik"),
    ("IT-Tier0", "adm.ogrant"),
    ("IT-Tier0", "dwhitfield"),
    ("Enterprise Admins", "adm.praman"),
    ("Domain Admins", "adm.kmarsh"),
    ("Domain Admins", "adm.jmiller"),
    ("Domain Admins", "adm.rpatel"),
    ("Backup Operators", "svc-backup"),
    ("Backup Operators", "svc-old-backup"),
    ("DL-FS-Payments-FullControl", "ahassan"),
    ("DL-FS-Payments-FullControl", "lvogel"),
    ("DL-FS-Payments-FullControl", "nkowalski"),
    ("AP-Payment-Release", "msantos"),
    ("AP-Invoice-Entry", "larsenh"),
    ("G-Treasury", "tbecker"),
    ("G-Treasury", "ahassan"),
    ("G-Payroll", "dlin"),
    ("G-Audit-Evidence", "rkerr"),
    ("DL-DB-Payroll-Owner", "gmsa-sql01$"),
    ("DL-DB-Payroll-Owner", "svc-payroll"),
    ("DL-FS-Legal-RO", FOREIGN_MEMBER),
    ("G-Finance", "larsenh"),
    ("G-Finance", "temp.audit"),
    ("DL-FS-Finance-RO", "temp.audit"),
    ("VPN-Users", "temp.audit"),
)

# --- the data inventory, permissions and the problems planted in them -----------------------

#: Entra groups the SharePoint sites are granted to. The Entra sample tenant
#: (accessaudit.sample._entra) holds them: its GUEST_SITE_GROUP (with a partner guest in it) and
#: one ``Entra-Dept-<department>`` group per HR department.
ENTRA_GUEST_SITE_GROUP = "SPO-Board-Pack-Members"
ENTRA_CLINICAL_GROUP = "Entra-Dept-Clinical Operations"
UNKNOWN_SID = f"{DOMAIN_SID}-9999"  # an ACE left behind by a deleted account
FULL = "FullControl"
MODIFY = "Modify, Synchronize"
READ = "ReadAndExecute, Synchronize"
GENERIC_ALL = "268435456"

#: The data inventory: (resource, type, system, path, owner, sensitivity, categories,
#: retention_days, last modified days ago, third parties). Owners are ``title:<HR title>``
#: (the bulk person holding it), ``login:<cast login>`` or empty.
RESOURCES: tuple[tuple[str, str, str, str, str, str, str, int | None, int, str], ...] = (
    ("finance-share", "share", "fs01", FS + r"\finance", "title:Chief Financial Officer", "confidential", "pii", 2555, 1, ""),
    ("finance-budget", "folder", "fs01", FS + r"\finance\Budget", "title:Chief Financial Officer", "confidential", "", 2555, 3, ""),
    ("hr-share", "share", "fs01", FS + r"\hr", "title:Chief People Officer", "restricted", "pii", 2555, 1, ""),
    ("hr-leavers-archive", "folder", "fs01", FS + r"\hr\Leavers-Archive", "login:zclarke", "restricted", "pii", 2190, 2650, ""),
    ("legal-share", "share", "fs01", FS + r"\legal", "login:sokafor", "confidential", "pii", 3650, 2, ""),
    ("legal-board-minutes", "folder", "fs01", FS + r"\legal\Board", "title:General Counsel", "confidential", "", None, 3100, ""),
    ("clinical-share", "share", "fs01", FS + r"\clinical", "title:VP Clinical Operations", "restricted", "phi;pii", 5475, 1, ""),
    ("clinical-trials", "folder", "fs01", FS + r"\clinical\Trials", "login:rlee", "restricted", "phi", 9125, 4, "Medidata Solutions"),
    ("payments-share", "share", "fs01", FS + r"\payments", "login:ahassan", "restricted", "pci", 1095, 1, ""),
    ("marketing-share", "share", "fs01", FS + r"\marketing", "", "public", "", 1825, 1, ""),
    ("it-share", "share", "fs01", FS + r"\it", "title:Chief Information Officer", "internal", "", 1825, 1, ""),
    ("support-share", "share", "fs01", FS + r"\support", "title:VP Customer Support", "internal", "", 1095, 2, ""),
    ("payroll-db", "database", "sqlprod01", "mssql://sqlprod01.corp.example.com/payroll", "title:Chief People Officer", "restricted", "pii", 2555, 1, "ADP"),
    ("crm", "app", "crm", "https://crm.example.com", "title:VP Sales", "confidential", "pii", 1825, 1, "Salesforce"),
    ("legacy-billing", "database", "sqlprod02", "mssql://sqlprod02.corp.example.com/billing_archive", "", "confidential", "pci;pii", 1825, 2400, ""),
    ("helpdesk", "app", "helpdesk", "https://helpdesk.example.com", "title:VP Customer Support", "internal", "", 730, 1, "Zendesk"),
    ("sp-finance", "site", "sharepoint", "https://example.sharepoint.com/sites/finance", "title:Chief Financial Officer", "confidential", "", 2555, 2, ""),
    ("sp-clinical-research", "site", "sharepoint", "https://example.sharepoint.com/sites/clinical-research", "title:VP Clinical Operations", "restricted", "phi", 5475, 6, ""),
    ("sp-partner-portal", "site", "sharepoint", "https://example.sharepoint.com/sites/partner-portal", "title:General Counsel", "confidential", "", 1825, 5, "Contoso Ltd; Fabrikam Inc"),
    ("sp-board-pack", "site", "sharepoint", "https://example.sharepoint.com/sites/board-pack", "login:mhale", "confidential", "", 3650, 9, ""),
    ("s3-build-artifacts", "bucket", "aws", "s3://example-build-artifacts", "title:VP Engineering", "internal", "", 180, 1, ""),
    ("s3-app-logs", "bucket", "aws", "s3://example-app-logs", "title:VP Engineering", "internal", "", 400, 1, ""),
    ("s3-exports-2019", "bucket", "aws", "s3://example-exports-2019", "login:gkim", "confidential", "pii", 365, 2200, ""),
    ("s3-old-logs", "bucket", "aws", "s3://example-old-logs", "title:VP Engineering", "internal", "", 3650, 1500, ""),
    ("gcs-marketing-assets", "bucket", "gcp", "gs://example-marketing-assets", "title:VP Marketing", "public", "", 365, 300, "Brightwave Agency"),
)  # fmt: skip

#: Shares on fs01 with their own access control entries (identity, rights, type).
ACL_SHARES: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = (
    ("finance", ((f"{NETBIOS}\\DL-FS-Finance-RW", MODIFY, "Allow"), (f"{NETBIOS}\\DL-FS-Finance-RO", READ, "Allow"),)),
    ("hr", ((f"{NETBIOS}\\DL-FS-HR-RW", MODIFY, "Allow"), (UNKNOWN_SID, READ, "Allow"),)),
    ("legal", ((f"{NETBIOS}\\DL-FS-Legal-RW", MODIFY, "Allow"), (f"{NETBIOS}\\DL-FS-Legal-RO", READ, "Allow"),)),
    ("clinical", ((f"{NETBIOS}\\DL-FS-Clinical-RW", MODIFY, "Allow"),)),
    ("payments", ((f"{NETBIOS}\\DL-FS-Payments-RW", MODIFY, "Allow"), (f"{NETBIOS}\\DL-FS-Payments-FullControl", FULL, "Allow"),)),
    ("marketing", ((f"{NETBIOS}\\DL-FS-Marketing-RW", MODIFY, "Allow"), (f"{NETBIOS}\\Domain Users", READ, "Allow"),)),
    ("it", ((f"{NETBIOS}\\DL-FS-IT-RW", MODIFY, "Allow"),)),
    ("support", ((f"{NETBIOS}\\DL-FS-Support-RW", MODIFY, "Allow"),)),
    ("scratch", ((f"{NETBIOS}\\Domain Users", MODIFY, "Allow"),)),
)  # fmt: skip
#: Folders below the shares: (share, folder, entries of their own); they inherit the share's.
ACL_FOLDERS: tuple[tuple[str, str, tuple[tuple[str, str, str], ...]], ...] = (
    ("finance", "Budget", ((f"{NETBIOS}\\jdoe", MODIFY, "Allow"),)),
    ("hr", "Investigations", ((f"{NETBIOS}\\DL-FS-HR-RW", "Write", "Deny"),)),
    ("hr", "Leavers-Archive", ()),
    ("clinical", "Trials", ((f"{NETBIOS}\\DL-FS-Clinical-Trials-RW", MODIFY, "Allow"),)),
    ("payments", "Card-Settlements", ((f"{NETBIOS}\\DL-FS-Payments-RW", "Delete", "Deny"),)),
)  # fmt: skip

#: Permissions in other systems: (principal, resource, right).
GRANTS: tuple[tuple[str, str, str], ...] = (
    ("DL-DB-Payroll-RW", "payroll-db", "write"),
    ("DL-DB-Payroll-RO", "payroll-db", "read"),
    ("DL-DB-Payroll-Owner", "payroll-db", "owner"),
    ("srossi", "payroll-db", "read"),
    ("ksullivan", "payroll-db", "read"),
    ("DL-DB-CRM-RW", "crm", "write"),
    ("DL-DB-CRM-Admin", "crm", "admin"),
    ("DL-DB-Billing-RO", "legacy-billing", "read"),
    ("G-Support", "helpdesk", "write"),
    ("G-Support-Leads", "helpdesk", "admin"),
    ("G-Finance", "sp-finance", "read"),
    ("G-Treasury", "sp-finance", "write"),
    ("G-Clinical", "sp-clinical-research", "write"),
    (ENTRA_CLINICAL_GROUP, "sp-clinical-research", "read"),
    ("G-Legal", "sp-partner-portal", "write"),
    (ENTRA_GUEST_SITE_GROUP, "sp-board-pack", "read"),
    ("G-Executive", "sp-board-pack", "write"),
    ("G-Engineering", "s3-build-artifacts", "write"),
    ("G-Eng-Prod-Read", "s3-app-logs", "read"),
    ("G-Sales-Ops", "s3-exports-2019", "read"),
    ("G-Marketing", "gcs-marketing-assets", "write"),
    # a data store nobody put in the inventory
    ("G-Finance", "data-warehouse", "read"),
    ("G-Sales-Ops", "data-warehouse", "read"),
)

#: (rule, subject type, subject, expect, why). Subjects are logins (for per-person rules, the
#: person's main login) or resource names; planted_problems adds the person's HR name.
#: expect: "finding" (fires and shows), "excepted" (fires, hidden by a current policy
#: exception), "none" (a near miss: must not fire).
PLANTED: tuple[tuple[str, str, str, str, str], ...] = (
    ("stale-account", "account", "gholt", "finding", "no sign-in for 150 days"),
    ("stale-account", "account", "iwalsh", "finding", "no sign-in for 95 days"),
    ("stale-account", "account", "pnguyen", "finding", "never signed in; created 60 days ago (starts in 20 days)"),
    ("stale-account", "account", "sokafor", "finding", "left 200 days ago; no sign-in for 210 days"),
    ("stale-account", "account", "svc-legacy-ftp", "finding", "service account unused for 400 days"),
    ("stale-account", "account", "astone", "none", "new hire, created 5 days ago, within grace"),
    ("stale-account", "account", "hbrooks", "none", "disabled leaver"),
    ("stale-account", "account", "zclarke", "none", "on leave, last sign-in 50 days ago"),
    ("leaver-active", "account", "bfoster", "finding", "left 60 days ago, enabled, signed in since"),
    ("leaver-active", "account", "npetrova", "finding", "left 10 days ago, still enabled"),
    ("leaver-active", "account", "sokafor", "finding", "left 200 days ago, still enabled"),
    ("leaver-active", "account", "hbrooks", "none", "leaver whose account is disabled"),
    ("leaver-active", "account", "rpatel", "none", "leaver whose account is disabled"),
    ("leaver-active", "account", "vchen", "none", "leaving in 12 days (notice period)"),
    ("orphan-account", "account", "temp.audit", "finding", "no HR person; its exception expired"),
    ("orphan-account", "account", "test.user", "finding", "enabled test account, no HR person"),
    ("orphan-account", "account", "adm.jmiller", "finding", "admin account whose owner is gone"),
    ("orphan-account", "account", "svc-backup", "none", "service account without HR record"),
    ("orphan-account", "account", "gmsa-sql01$", "none", "group managed service account"),
    ("orphan-account", "account", "adm.twojcik", "none", "admin account linked by its login"),
    ("orphan-account", "account", "shared.finance", "none", "disabled shared mailbox"),
    ("excess-privilege", "account", "adm.kmarsh", "finding", "Domain Admins, not approved"),
    ("excess-privilege", "account", "adm.jmiller", "finding", "Domain Admins, not approved"),
    ("excess-privilege", "account", "dwhitfield", "finding", "IT-Tier0 -> Domain Admins (nested)"),
    ("excess-privilege", "account", "lvogel", "finding", "DL-FS-Payments-FullControl, not approved"),
    ("excess-privilege", "account", "adm.praman", "none", "approved Domain Admin"),
    ("excess-privilege", "account", "svc-backup", "none", "approved Backup Operator"),
    ("stale-privilege", "account", "adm.twojcik", "finding", "Domain Admin, no sign-in for 45 days"),
    ("stale-privilege", "account", "adm.ogrant", "finding", "Domain Admin, no sign-in for 33 days"),
    ("stale-privilege", "account", "ahassan", "finding", "Payments full control, idle 60 days"),
    ("stale-privilege", "account", "adm.praman", "none", "Domain Admin who signed in yesterday"),
    ("peer-outlier", "person", "ecarter", "finding", "moved Finance -> Marketing, kept G-Finance"),
    ("peer-outlier", "person", "lnowak", "finding", "moved Finance -> Engineering, kept G-Finance"),
    ("peer-outlier", "person", "mreed", "finding", "moved HR -> Sales, kept G-HR"),
    ("peer-outlier", "person", "dlin", "finding", "Account Executive in G-Payroll"),
    ("peer-outlier", "person", "rkerr", "none", "sole G-Audit-Evidence holder; Internal Audit has 3 people"),
    ("sod-conflict", "person", "msantos", "finding", "AP-Invoice-Entry (via G-Accounts-Payable) and AP-Payment-Release (direct)"),
    ("sod-conflict", "person", "hlarsen", "finding", "AP-Payment-Release via G-Treasury; AP-Invoice-Entry on second account larsenh"),
    ("sod-conflict", "person", "tbecker", "finding", "AP-Invoice-Entry and AP-Payment-Release, both through nested groups"),
    ("sod-conflict", "person", "gkim", "none", "holds AP-Invoice-Entry only"),
    ("third-party-sensitive", "account", "cdubois", "finding", "contractor reaching the confidential finance share (pii)"),
    ("third-party-sensitive", "account", "ihorvat", "finding", "vendor reaching restricted clinical data (phi)"),
    ("third-party-sensitive", "account", "ksullivan", "finding", "contractor with direct read on the payroll database (pii)"),
    ("third-party-sensitive", "account", "lmartins", "none", "contractor reaching only public marketing data"),
    ("password-never-expires", "account", "wpark", "finding", "DONT_EXPIRE_PASSWORD on a user account"),
    ("password-never-expires", "account", "adm.ogrant", "finding", "DONT_EXPIRE_PASSWORD on an admin account"),
    ("password-never-expires", "account", "rlee", "excepted", "DONT_EXPIRE_PASSWORD; current policy exception"),
    ("password-never-expires", "account", "svc-sql", "none", "service account"),
    ("password-never-expires", "account", "Guest", "none", "disabled built-in account"),
    ("direct-grant", "account", "jdoe", "finding", r"Modify on \\fs01\finance\Budget"),
    ("direct-grant", "account", "srossi", "finding", "read on payroll-db"),
    ("direct-grant", "account", "ksullivan", "finding", "read on payroll-db"),
    ("unowned-resource", "resource", "legal-share", "finding", "owner Samuel Okafor left"),
    ("unowned-resource", "resource", "legacy-billing", "finding", "confidential, no owner"),
    ("unowned-resource", "resource", "marketing-share", "none", "no owner, but public"),
    ("unowned-resource", "resource", "hr-leavers-archive", "none", "owner is on leave, not gone"),
    ("unclassified-resource", "resource", FS + r"\scratch", "finding", "ACL on fs01 but no inventory entry"),
    ("unclassified-resource", "resource", "data-warehouse", "finding", "granted in grants.csv, not inventoried"),
    ("unclassified-resource", "resource", "s3-old-logs", "none", "inventoried, no grants"),
    ("retention-overdue", "resource", "hr-leavers-archive", "finding", "last modified 2650 days ago, retention 2190"),
    ("retention-overdue", "resource", "s3-exports-2019", "none", "past retention, but kept under a current legal hold"),
    ("retention-overdue", "resource", "legacy-billing", "finding", "last modified 2400 days ago, retention 1825; its legal hold expired"),
    ("retention-overdue", "resource", "legal-board-minutes", "none", "old, but no retention period (kept permanently)"),
    ("retention-overdue", "resource", "gcs-marketing-assets", "none", "last modified 300 days ago, retention 365"),
    ("disabled-privileged", "account", "adm.rpatel", "finding", "disabled leaver's admin account still in Domain Admins"),
    ("disabled-privileged", "account", "nkowalski", "finding", "disabled, still in DL-FS-Payments-FullControl"),
    ("disabled-privileged", "account", "svc-old-backup", "finding", "disabled, still in Backup Operators"),
    ("disabled-privileged", "account", "hbrooks", "none", "disabled leaver without privileged groups"),
    ("leaver-active", "account", "lmartins", "finding", "contractor whose contract ended 15 days ago, still enabled"),
    ("leaver-active", "account", "ksullivan", "none", "contractor whose contract runs 25 more days"),
    ("mover-retained-access", "person", "lnowak", "finding", "moved Finance -> Engineering 120 days ago, kept G-Finance"),
    ("mover-retained-access", "person", "ecarter", "finding", "moved Finance -> Marketing 200 days ago, kept G-Finance"),
    ("mover-retained-access", "person", "mreed", "none", "moved HR -> Sales 20 days ago: within the 30-day grace"),
    ("mover-retained-access", "person", "dlin", "none", "moved HR -> Sales, in no HR history: found only with the previous quarter's snapshot"),
    ("joiner-early-access", "account", "pnguyen", "finding", "account enabled 60 days ago; HR start in 20 days"),
    ("joiner-early-access", "account", "wpark", "finding", "rehired 200 days ago; still on the account of her first employment"),
    ("joiner-early-access", "account", "gkim", "none", "rehired 400 days ago with a new account made 2 days before"),
    ("joiner-early-access", "account", "astone", "none", "new hire who started 2 days ago, account made 3 days before"),
    ("joiner-excess", "person", "ksullivan", "finding", "joined 40 days ago; direct read on the payroll database (pii) no IT peer holds"),
    ("joiner-excess", "person", "lvogel", "finding", "joined 30 days ago; payments full control no Finance peer but the treasurer holds"),
    ("joiner-excess", "person", "dwhitfield", "none", "Tier 0 (excess-privilege), but joined 500 days ago"),
    ("joiner-excess", "person", "astone", "none", "joined 2 days ago with her team's access only"),
    ("third-party-expiring", "account", "ihorvat", "finding", "vendor on restricted clinical data; contract ends in 20 days"),
    ("third-party-expiring", "account", "ksullivan", "finding", "contractor with direct read on the payroll database (pii); contract ends in 25 days"),
    ("third-party-expiring", "account", "cdubois", "none", "contractor on confidential data; contract ends in 160 days"),
    ("guest-without-sponsor", "account", "ihorvat", "none", "vendor sponsored by his HR manager"),
)  # fmt: skip

#: Plants that need the previous quarter's snapshot (``run_audit(previous=...)``).
PLANTED_WITH_PREVIOUS: tuple[tuple[str, str, str, str, str], ...] = (
    ("mover-retained-access", "person", "dlin", "finding", "moved HR -> Sales last quarter (no HR history), kept G-Payroll"),
    ("mover-retained-access", "person", "lnowak", "finding", "HR history still wins: moved Finance -> Engineering"),
    ("mover-retained-access", "person", "mreed", "none", "HR history: within the grace period"),
)  # fmt: skip
