"""Provision and run a throw-away Samba Active Directory domain controller on 127.0.0.1.

``SambaDC.provision()`` runs ``samba-tool domain provision`` into a temporary folder (no DNS,
loopback only, ``ldb:nosync``, only the LDAP service), installs a certificate from the test CA,
``start()`` runs ``samba -i -M single`` in its own process group and waits for LDAPS, and
``populate()`` adds an organisation over LDAPS with ldap3: users (enabled, one disabled, one
whose password never expires), nested groups, a group with more than 1,500 members (so Active
Directory range retrieval matters) and an account that is a Domain Admin only through nesting.

Samba has no setting for its LDAP ports: it needs 389 and 636 on 127.0.0.1 free (and root or
CAP_NET_BIND_SERVICE); :func:`ports_busy` lets a fixture skip with that reason.
"""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import which
from .tls import TestPKI, make_pki

__all__ = [
    "ADMIN_PASSWORD",
    "BASE_DN",
    "DOMAIN",
    "REALM",
    "USER_PASSWORD",
    "Org",
    "SambaDC",
    "ports_busy",
]

REALM = "CORP.EXAMPLE.TEST"
DOMAIN = "CORP"
BASE_DN = "DC=corp,DC=example,DC=test"
ADMIN_PASSWORD = "Adm1n-Secret!42"
USER_PASSWORD = "Us3r-Secret!42"
LDAP_PORT, LDAPS_PORT = 389, 636

# userAccountControl bits (MS-ADTS 2.2.16)
UAC_ACCOUNTDISABLE = 0x2
UAC_PASSWD_NOTREQD = 0x20
UAC_NORMAL_ACCOUNT = 0x200
UAC_DONT_EXPIRE_PASSWORD = 0x10000
UAC_WORKSTATION_TRUST_ACCOUNT = 0x1000
#: schemaIDGUID of the userAccountControl attribute (MS-ADA3), for an object-specific ACE.
USER_ACCOUNT_CONTROL_GUID = "bf967a68-0de6-11d0-a285-00aa003049e2"


def ports_busy() -> list[int]:
    """The LDAP ports Samba needs that something already listens on."""
    busy = []
    for port in (LDAP_PORT, LDAPS_PORT):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.3)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                busy.append(port)
    return busy


@dataclass(frozen=True)
class Org:
    """What :meth:`SambaDC.populate` created, for the tests to check against."""

    users: int
    big_group: str
    big_group_size: int
    disabled_user: str
    never_expires_user: str
    nested_admin: str
    tier0_group: str
    gmsa: str
    reader: str
    hidden_uac_users: tuple[str, ...]
    hidden_uac_disabled: str


@dataclass
class SambaDC:
    """A Samba AD DC in ``folder``; ``provision()``, ``start()``, ``populate()``, ``stop()``."""

    folder: Path
    process: subprocess.Popen[bytes] | None = None
    pki: TestPKI | None = None
    conf: Path = field(init=False)

    def __post_init__(self) -> None:
        self.conf = self.folder / "etc" / "smb.conf"

    @property
    def ldaps_url(self) -> str:
        """LDAP over TLS on the loopback address."""
        return f"ldaps://127.0.0.1:{LDAPS_PORT}"

    @property
    def ldap_url(self) -> str:
        """Plain LDAP (StartTLS) on the loopback address."""
        return f"ldap://127.0.0.1:{LDAP_PORT}"

    @property
    def admin_dn(self) -> str:
        """The domain administrator, as a DN."""
        return f"CN=Administrator,CN=Users,{BASE_DN}"

    @property
    def ca_cert(self) -> Path:
        """The test CA that signed the DC's certificate."""
        assert self.pki is not None
        return self.pki.ca_cert

    def provision(self) -> None:
        """Provision the domain (a few seconds with ``ldb:nosync``) and add TLS settings."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.pki = make_pki(self.folder / "tls", (socket.gethostname().lower(), "localhost"))
        subprocess.run(
            [
                which("samba-tool"),
                "domain",
                "provision",
                "--server-role=dc",
                "--dns-backend=NONE",
                f"--targetdir={self.folder}",
                f"--realm={REALM}",
                f"--domain={DOMAIN}",
                f"--adminpass={ADMIN_PASSWORD}",
                "--use-rfc2307",
                "--option=interfaces=lo",
                "--option=bind interfaces only=yes",
                "--option=ldb:nosync = true",
                "--option=server services = ldap",
            ],
            check=True,
            capture_output=True,
        )
        extra = {
            "tls enabled": "yes",
            "tls keyfile": self.pki.server_key,
            "tls certfile": self.pki.server_cert,
            "tls cafile": self.pki.ca_cert,
            "pid directory": self.folder / "run",
            "ncalrpc dir": self.folder / "ncalrpc",
            "winbindd socket directory": self.folder / "winbindd",
            "log file": self.folder / "log.%m",
            "log level": "1",
        }
        (self.folder / "run").mkdir(exist_ok=True)
        text = self.conf.read_text(encoding="utf-8")
        text = "\n".join(
            line for line in text.splitlines() if not line.strip().startswith("log file")
        )
        settings = "".join(f"\t{key} = {value}\n" for key, value in extra.items())
        self.conf.write_text(text.replace("[global]\n", f"[global]\n{settings}", 1) + "\n")

    def start(self, timeout: float = 60.0) -> None:
        """Start ``samba`` in the foreground, in its own process group; wait for LDAPS."""
        log = (self.folder / "samba.out").open("ab")
        self.process = subprocess.Popen(
            [which("samba"), "-s", str(self.conf), "-i", "-M", "single"],
            # -i exits when stdin reaches EOF: an open pipe keeps it alive until stop().
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        context = ssl.create_default_context(cafile=str(self.ca_cert))
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = (self.folder / "samba.out").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"samba exited with {self.process.returncode}:\n{output}")
            try:
                with (
                    socket.create_connection(("127.0.0.1", LDAPS_PORT), timeout=1) as raw,
                    context.wrap_socket(raw, server_hostname="127.0.0.1"),
                ):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("samba did not answer on LDAPS in time")

    def stop(self) -> None:
        """Stop samba by its PID (its process group: SIGTERM, then SIGKILL)."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        if process.stdin is not None:
            process.stdin.close()
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)

    def connection(self) -> Any:
        """An ldap3 connection bound as the domain administrator over LDAPS."""
        import ldap3

        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(self.ca_cert))
        server = ldap3.Server(
            "127.0.0.1", port=LDAPS_PORT, use_ssl=True, tls=tls, get_info=ldap3.NONE
        )
        return ldap3.Connection(
            server, self.admin_dn, ADMIN_PASSWORD, auto_bind=True, raise_exceptions=True
        )

    def populate(self, users: int = 1600) -> Org:
        """Add the test organisation over LDAPS; ``users`` must exceed 1,500."""
        conn = self.connection()
        people = f"OU=Staff,{BASE_DN}"
        groups = f"OU=Groups,{BASE_DN}"
        for ou in (people, groups):
            conn.add(ou, "organizationalUnit")

        def add_user(login: str, uac: int, **extra: Any) -> str:
            dn = f"CN={login},{people}"
            attrs: dict[str, Any] = {
                "sAMAccountName": login,
                "userPrincipalName": f"{login}@{REALM.lower()}",
                "displayName": login.replace(".", " ").title(),
                "mail": f"{login}@corp.example.test",
                "userAccountControl": str(uac),
                **extra,
            }
            conn.add(dn, ["top", "person", "organizationalPerson", "user"], attrs)
            return dn

        enabled = UAC_NORMAL_ACCOUNT | UAC_PASSWD_NOTREQD
        departments = ("Finance", "Sales", "Engineering", "HR", "Legal")
        user_dns = [
            add_user(
                f"user{i:05d}",
                enabled,
                employeeID=f"E{i:05d}",
                department=departments[i % len(departments)],
            )
            for i in range(users)
        ]
        disabled = add_user("old.dave", enabled | UAC_ACCOUNTDISABLE, employeeID="E90001")
        never = add_user("svc.backup", enabled | UAC_DONT_EXPIRE_PASSWORD, description="backup job")
        admin = add_user("adm.carol", enabled, employeeID="E90003")
        # A real password too, so one account is like one a person signs in with.
        password = f'"{USER_PASSWORD}"'.encode("utf-16-le")
        conn.modify(admin, {"unicodePwd": [("MODIFY_REPLACE", [password])]})

        def add_group(name: str, members: list[str]) -> str:
            dn = f"CN={name},{groups}"
            conn.add(dn, ["top", "group"], {"sAMAccountName": name})
            for start in range(0, len(members), 500):
                conn.modify(dn, {"member": [("MODIFY_ADD", members[start : start + 500])]})
            return dn

        tier0 = add_group("Tier0-Admins", [admin])
        conn.modify(f"CN=Domain Admins,CN=Users,{BASE_DN}", {"member": [("MODIFY_ADD", [tier0])]})
        big = add_group("All-Staff", user_dns)
        ops = add_group("Ops", [user_dns[0], user_dns[1], never])
        add_group("Ops-Leads", [ops, user_dns[2]])
        for team in range(10):
            add_group(f"Team{team:02d}", user_dns[team * 10 : team * 10 + 10])
        gmsa = self._add_gmsa(conn)
        reader, hidden, hidden_disabled = self._add_restricted(conn)
        conn.unbind()
        return Org(
            users=users + 3,
            big_group=big,
            big_group_size=len(user_dns),
            disabled_user=disabled,
            never_expires_user=never,
            nested_admin=admin,
            tier0_group=tier0,
            gmsa=gmsa,
            reader=reader,
            hidden_uac_users=hidden,
            hidden_uac_disabled=hidden_disabled,
        )

    def _add_gmsa(self, conn: Any) -> str:
        """A group managed service account, added over LDAP: this Samba (4.17) has no
        ``samba-tool service-account`` nor KDS root keys, but accepts the object itself."""
        dn = f"CN=gmsa-web,CN=Managed Service Accounts,{BASE_DN}"
        classes = ["top", "person", "organizationalPerson", "user", "computer"]
        conn.add(
            dn,
            [*classes, "msDS-GroupManagedServiceAccount"],
            {
                "sAMAccountName": "gmsa-web$",
                "dNSHostName": "gmsa-web.corp.example.test",
                "msDS-ManagedPasswordInterval": "30",
                "userAccountControl": str(UAC_WORKSTATION_TRUST_ACCOUNT),
            },
        )
        return dn

    def _add_restricted(self, conn: Any) -> tuple[str, tuple[str, ...], str]:
        """A plain domain user (the reader) and ``OU=Restricted`` whose inheritable deny ACE
        keeps the reader from reading userAccountControl of the two users created in it."""
        import ldap3

        from accessaudit.connectors.ldap.syntax import sid_to_string

        reader = f"CN=plain.reader,CN=Users,{BASE_DN}"
        conn.add(
            reader,
            ["top", "person", "organizationalPerson", "user"],
            {
                "sAMAccountName": "plain.reader",
                "userAccountControl": str(UAC_NORMAL_ACCOUNT),
                "unicodePwd": f'"{USER_PASSWORD}"'.encode("utf-16-le"),
            },
        )
        conn.search(reader, "(objectClass=*)", ldap3.BASE, attributes=["objectSid"])
        sid = sid_to_string(conn.entries[0].objectSid.raw_values[0])
        ou = f"OU=Restricted,{BASE_DN}"
        conn.add(ou, "organizationalUnit")
        # OD: object deny, CI: inherited by children, RP: read property.
        subprocess.run(
            [
                which("samba-tool"),
                "dsacl",
                "set",
                f"--configfile={self.conf}",
                f"-H{self.ldap_url}",
                f"-UAdministrator%{ADMIN_PASSWORD}",
                f"--objectdn={ou}",
                f"--sddl=(OD;CI;RP;{USER_ACCOUNT_CONTROL_GUID};;{sid})",
            ],
            check=True,
            capture_output=True,
        )
        enabled = UAC_NORMAL_ACCOUNT | UAC_PASSWD_NOTREQD
        hidden = []
        for login, uac in (("hidden.alice", enabled), ("hidden.bob", enabled | UAC_ACCOUNTDISABLE)):
            dn = f"CN={login},{ou}"
            conn.add(
                dn,
                ["top", "person", "organizationalPerson", "user"],
                {"sAMAccountName": login, "userAccountControl": str(uac)},
            )
            hidden.append(dn)
        # Bind once now: the first logon sets lastLogonTimestamp, which would otherwise change
        # between collections made before and after the tests that bind as the reader.
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(self.ca_cert))
        server = ldap3.Server("127.0.0.1", port=LDAPS_PORT, use_ssl=True, tls=tls)
        ldap3.Connection(server, reader, USER_PASSWORD, auto_bind=True).unbind()
        return reader, tuple(hidden), hidden[1]

    def __enter__(self) -> SambaDC:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
