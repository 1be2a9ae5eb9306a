"""Start a throw-away OpenLDAP slapd on free 127.0.0.1 ports.

The server has an mdb database for ``dc=example,dc=org`` with the memberof, lastbind and
ppolicy overlays, listens on plain LDAP (for StartTLS) and LDAPS with a certificate from the
test CA, and has a manager DN (``cn=admin,dc=example,dc=org``). ``org_ldif`` writes a
deterministic organisation (inetOrgPerson with employeeNumber, groupOfNames with nesting,
posixGroup) that tests add over the wire, so memberOf is maintained, and the benchmark loads
offline with slapadd, which is much faster.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from . import which
from .tls import TestPKI, make_pki

__all__ = [
    "BASE_DN",
    "DEFAULT_POLICY_DN",
    "HIDDEN_ATTRIBUTES",
    "MANAGER_DN",
    "MANAGER_PASSWORD",
    "RESTRICTED_DN",
    "RESTRICTED_PASSWORD",
    "Slapd",
    "free_port",
    "org_ldif",
]

BASE_DN = "dc=example,dc=org"
MANAGER_DN = f"cn=admin,{BASE_DN}"
MANAGER_PASSWORD = "manager-secret-42"
#: A low-privilege bind account (added by :meth:`Slapd.add_restricted_reader`) that the ACL
#: below keeps from reading :data:`HIDDEN_ATTRIBUTES`, like a help-desk account would be.
RESTRICTED_DN = f"cn=restricted-reader,{BASE_DN}"
RESTRICTED_PASSWORD = "restricted-secret-42"
HIDDEN_ATTRIBUTES = ("employeeNumber", "authTimestamp", "pwdAccountLockedTime")
#: The overlay's ``ppolicy_default``: governs accounts without pwdPolicySubentry once a test
#: adds the entry (until then no policy applies, as slapo-ppolicy(5) says).
DEFAULT_POLICY_DN = f"cn=default,ou=policies,{BASE_DN}"
_SCHEMA = Path("/etc/ldap/schema")
_MODULES = Path("/usr/lib/ldap")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int, deadline: float, process: subprocess.Popen[bytes]) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with status {process.returncode} while starting")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not listen on 127.0.0.1:{port} in time")


@dataclass
class Slapd:
    """One slapd in ``folder``: ``start()``, ``stop()``, ``kill()``; use as a context manager."""

    folder: Path
    ldap_port: int = field(default_factory=free_port)
    ldaps_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    pki: TestPKI | None = None

    @property
    def ldap_url(self) -> str:
        """Plain LDAP, for StartTLS (and for the plaintext-refused test)."""
        return f"ldap://127.0.0.1:{self.ldap_port}"

    @property
    def ldaps_url(self) -> str:
        """LDAP over TLS."""
        return f"ldaps://127.0.0.1:{self.ldaps_port}"

    @property
    def ca_cert(self) -> Path:
        """The CA that signed the server's certificate."""
        assert self.pki is not None
        return self.pki.ca_cert

    def configure(self) -> None:
        """Write the PKI, slapd.conf and an empty database folder."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.pki = make_pki(self.folder / "tls")
        (self.folder / "data").mkdir(exist_ok=True)
        schemas = "\n".join(
            f"include {_SCHEMA / name}.schema"
            for name in ("core", "cosine", "nis", "inetorgperson", "openldap")
        )
        modules = "\n".join(
            f"moduleload {name}"
            for name in ("back_mdb", "memberof", "lastbind", "ppolicy")
            if any(_MODULES.glob(f"{name}*.so*"))
        )
        ppolicy = "overlay ppolicy" if any(_MODULES.glob("ppolicy*.so*")) else ""
        (self.folder / "slapd.conf").write_text(
            f"""{schemas}
modulepath {_MODULES}
{modules}
pidfile {self.folder / "slapd.pid"}
argsfile {self.folder / "slapd.args"}
TLSCACertificateFile {self.pki.ca_cert}
TLSCertificateFile {self.pki.server_cert}
TLSCertificateKeyFile {self.pki.server_key}
sizelimit unlimited

database mdb
suffix "{BASE_DN}"
rootdn "{MANAGER_DN}"
rootpw {MANAGER_PASSWORD}
directory {self.folder / "data"}
maxsize 4294967296
dbnosync
index objectClass eq
index member,memberUid eq
limits dn.exact="{MANAGER_DN}" size=unlimited time=unlimited
# Everyone may read everything (slapd's default without access lines), except that the
# restricted reader may not see the hidden attributes; binding needs auth on userPassword.
access to attrs={",".join(HIDDEN_ATTRIBUTES)}
    by dn.exact="{RESTRICTED_DN}" none
    by * read
access to attrs=userPassword
    by self read
    by anonymous auth
    by * none
access to *
    by * read
overlay memberof
memberof-refint TRUE
overlay lastbind
lastbind-precision 0
{ppolicy}
{f'ppolicy_default "{DEFAULT_POLICY_DN}"' if ppolicy else ""}
""",
            encoding="utf-8",
        )

    def slapadd(self, ldif: Path) -> None:
        """Load ``ldif`` offline (the server must be stopped). Overlays do not run, so memberOf
        stays absent: fine for the benchmark, which measures reading speed."""
        subprocess.run(
            [which("slapadd"), "-q", "-f", str(self.folder / "slapd.conf"), "-l", str(ldif)],
            check=True,
            capture_output=True,
        )

    def start(self, timeout: float = 20.0) -> None:
        """Start slapd in its own process group and wait until both ports accept connections."""
        if self.pki is None:
            self.configure()
        log = (self.folder / "slapd.log").open("ab")
        self.process = subprocess.Popen(
            [
                which("slapd"),
                "-d",
                "0",
                "-f",
                str(self.folder / "slapd.conf"),
                "-h",
                f"{self.ldap_url}/ {self.ldaps_url}/",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        try:
            _wait_for_port(self.ldap_port, deadline, self.process)
            _wait_for_port(self.ldaps_port, deadline, self.process)
        except RuntimeError as error:
            text = (self.folder / "slapd.log").read_text(errors="replace")[-2000:]
            self.stop()
            raise RuntimeError(f"slapd: {error}\n{text}") from error

    def kill(self) -> None:
        """Kill slapd at once (SIGKILL), as a crashing server or a dropped network would."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        """Stop slapd by its PID (SIGTERM, then SIGKILL after 10 s)."""
        if self.process is None or self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()

    def ldapadd(self, ldif: Path) -> None:
        """Add entries over the wire as the manager (overlays run: memberOf is maintained)."""
        subprocess.run(
            [
                which("ldapadd"),
                "-x",
                "-H",
                self.ldap_url,
                "-D",
                MANAGER_DN,
                "-w",
                MANAGER_PASSWORD,
                "-f",
                str(ldif),
            ],
            check=True,
            capture_output=True,
        )

    def ldapmodify(self, ldif: str) -> None:
        """Apply LDIF change records (``changetype: ...``) over the wire as the manager."""
        subprocess.run(
            [
                which("ldapmodify"),
                "-x",
                "-H",
                self.ldap_url,
                "-D",
                MANAGER_DN,
                "-w",
                MANAGER_PASSWORD,
            ],
            input=ldif.encode("utf-8"),
            check=True,
            capture_output=True,
        )

    def add_restricted_reader(self) -> None:
        """Add :data:`RESTRICTED_DN` (not an account: no inetOrgPerson) with its password."""
        self.ldapmodify(
            f"dn: {RESTRICTED_DN}\nchangetype: add\nobjectClass: organizationalRole\n"
            f"objectClass: simpleSecurityObject\ncn: restricted-reader\n"
            f"userPassword: {RESTRICTED_PASSWORD}\n"
        )

    def bind_as(self, dn: str, password: str) -> None:
        """Bind once as ``dn`` (``ldapwhoami``): the lastbind overlay records authTimestamp."""
        subprocess.run(
            [which("ldapwhoami"), "-x", "-H", self.ldap_url, "-D", dn, "-w", password],
            check=True,
            capture_output=True,
        )

    def ldapsearch_ldif(self, out: Path, *attributes: str) -> None:
        """Export the whole tree with ``ldapsearch -LLL`` (paged), as an administrator would."""
        with out.open("wb") as handle:
            subprocess.run(
                [
                    which("ldapsearch"),
                    "-LLL",
                    "-x",
                    "-o",
                    "ldif-wrap=76",
                    "-E",
                    "pr=500/noprompt",
                    "-H",
                    self.ldap_url,
                    "-D",
                    MANAGER_DN,
                    "-w",
                    MANAGER_PASSWORD,
                    "-b",
                    BASE_DN,
                    "(objectClass=*)",
                    *attributes,
                ],
                check=True,
                stdout=handle,
                env={**os.environ, "LDAPTLS_CACERT": str(self.ca_cert)},
            )

    def ldapsearch_output(self, out: Path, *arguments: str) -> int:
        """Write the whole output of a plain ``ldapsearch -x`` (no ``-LLL``: comments, search
        references and the ``# search result`` trailers) to ``out``, as an administrator
        would redirect it; ``arguments`` add options, the filter and attributes. Returns
        ldapsearch's exit status (the LDAP result code: 4 for a size limit)."""
        with out.open("wb") as handle:
            return subprocess.run(
                [
                    which("ldapsearch"),
                    "-x",
                    "-H",
                    self.ldap_url,
                    "-D",
                    MANAGER_DN,
                    "-w",
                    MANAGER_PASSWORD,
                    "-b",
                    BASE_DN,
                    *arguments,
                ],
                check=False,
                stdout=handle,
                env={**os.environ, "LDAPTLS_CACERT": str(self.ca_cert)},
            ).returncode

    def __enter__(self) -> Slapd:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _entry(handle: TextIO, dn: str, *pairs: tuple[str, str]) -> None:
    handle.write(f"dn: {dn}\n")
    for name, value in pairs:
        handle.write(f"{name}: {value}\n")
    handle.write("\n")


def org_people(users: int) -> Iterator[str]:
    """The uid of every generated user, in order."""
    return (f"user{i:06d}" for i in range(users))


def org_ldif(
    out: Path,
    *,
    users: int = 300,
    groups: int = 20,
    big_groups: int = 1,
    big_group_size: int = 2000,
    with_base: bool = True,
) -> Path:
    """Write a deterministic organisation under ``dc=example,dc=org`` as LDIF.

    ``users`` inetOrgPerson entries (``uid=user000042``, employeeNumber ``E000042``), ``groups``
    groupOfNames with about 10 members each, where every fifth group also nests the previous
    group, ``big_groups`` groups with ``big_group_size`` members (capped at ``users``), a
    ``posixGroup`` per 50 users with memberUid, and ``cn=admins`` nesting ``cn=ops``.
    Members are written as DNs; streaming, so 100,000 users need no memory.
    """
    people = f"ou=people,{BASE_DN}"
    grp = f"ou=groups,{BASE_DN}"

    def user_dn(i: int) -> str:
        return f"uid=user{i:06d},{people}"

    with out.open("w", encoding="utf-8") as handle:
        if with_base:
            _entry(
                handle,
                BASE_DN,
                ("objectClass", "dcObject"),
                ("objectClass", "organization"),
                ("o", "Example"),
                ("dc", "example"),
            )
        _entry(handle, people, ("objectClass", "organizationalUnit"), ("ou", "people"))
        _entry(handle, grp, ("objectClass", "organizationalUnit"), ("ou", "groups"))
        departments = ("Finance", "Sales", "Engineering", "HR", "Legal")
        for i in range(users):
            _entry(
                handle,
                user_dn(i),
                ("objectClass", "inetOrgPerson"),
                ("uid", f"user{i:06d}"),
                ("cn", f"User {i}"),
                ("sn", f"Number{i}"),
                ("givenName", "User"),
                ("displayName", f"User Number {i}"),
                ("mail", f"user{i:06d}@example.org"),
                ("employeeNumber", f"E{i:06d}"),
                ("departmentNumber", departments[i % len(departments)]),
            )
        if users:
            _entry(
                handle,
                f"cn=ops,{grp}",
                ("objectClass", "groupOfNames"),
                ("cn", "ops"),
                ("member", user_dn(0)),
                ("member", user_dn(min(1, users - 1))),
            )
            _entry(
                handle,
                f"cn=admins,{grp}",
                ("objectClass", "groupOfNames"),
                ("cn", "admins"),
                ("description", "Directory administrators"),
                ("member", f"cn=ops,{grp}"),
                ("member", user_dn(min(2, users - 1))),
            )
        for g in range(groups if users else 0):
            members = sorted({(g * 7 + k * 13) % users for k in range(10)})
            pairs = [("objectClass", "groupOfNames"), ("cn", f"team{g:05d}")]
            pairs += [("member", user_dn(m)) for m in members]
            if g % 5 == 4:
                pairs.append(("member", f"cn=team{g - 1:05d},{grp}"))
            _entry(handle, f"cn=team{g:05d},{grp}", *pairs)
        for b in range(big_groups if users else 0):
            size = min(big_group_size, users)
            pairs = [("objectClass", "groupOfNames"), ("cn", f"everyone{b}")]
            pairs += [("member", user_dn((b + k) % users)) for k in range(size)]
            _entry(handle, f"cn=everyone{b},{grp}", *pairs)
        for p in range((users + 49) // 50):
            pairs = [
                ("objectClass", "posixGroup"),
                ("cn", f"unix{p:04d}"),
                ("gidNumber", str(10000 + p)),
            ]
            pairs += [("memberUid", f"user{i:06d}") for i in range(p * 50, min(users, p * 50 + 50))]
            _entry(handle, f"cn=unix{p:04d},{grp}", *pairs)
    return out
