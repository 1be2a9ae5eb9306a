"""Start a throw-away MariaDB server on a free 127.0.0.1 port, TLS required.

``mariadb-install-db`` writes a fresh data directory and ``mariadbd`` runs as the ``mysql``
system user (Debian's package creates it; the server refuses to run as root otherwise), with
``--no-defaults`` so no system configuration leaks in. TCP connections must use TLS
(``require_secure_transport``) with a certificate from the test CA; the administrator sets the
server up over the Unix socket in the server's own folder.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import which
from .slapd import free_port
from .tls import TestPKI, make_pki

__all__ = ["MariaDBServer"]

_SYSTEM_USER = "mysql"


@dataclass
class MariaDBServer:
    """One MariaDB server: ``start()``, ``stop()``, ``sql()``; a context manager."""

    port: int = field(default_factory=free_port)
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="aa-maria-")))
    process: subprocess.Popen[bytes] | None = None
    pki: TestPKI | None = None

    @property
    def ca_cert(self) -> Path:
        """The test CA that signed the server certificate."""
        assert self.pki is not None
        return self.pki.ca_cert

    @property
    def socket(self) -> Path:
        """The administrator's Unix socket."""
        return self.folder / "mysqld.sock"

    def _arguments(self) -> list[str]:
        assert self.pki is not None
        user = [f"--user={_SYSTEM_USER}"] if os.geteuid() == 0 else []
        return [
            "--no-defaults",
            f"--datadir={self.folder / 'data'}",
            *user,
        ]

    def configure(self) -> None:
        """Write the PKI and initialise the data directory."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.pki = make_pki(self.folder / "tls")
        if os.geteuid() == 0:
            owner = pwd.getpwnam(_SYSTEM_USER)
            self.folder.chmod(0o755)
            for path in [self.folder, *self.folder.rglob("*")]:
                os.chown(path, owner.pw_uid, owner.pw_gid)
        subprocess.run(
            [
                which("mariadb-install-db"),
                *self._arguments(),
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
        )

    def start(self, timeout: float = 60.0) -> None:
        """Start ``mariadbd`` in its own session and wait until the socket answers."""
        if self.pki is None:
            self.configure()
        assert self.pki is not None
        log = (self.folder / "mariadb.log").open("ab")
        self.process = subprocess.Popen(
            [
                which("mariadbd"),
                *self._arguments(),
                "--bind-address=127.0.0.1",
                f"--port={self.port}",
                f"--socket={self.socket}",
                f"--pid-file={self.folder / 'mysqld.pid'}",
                f"--ssl-ca={self.pki.ca_cert}",
                f"--ssl-cert={self.pki.server_cert}",
                f"--ssl-key={self.pki.server_key}",
                "--require-secure-transport=ON",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=32M",
                "--innodb-log-file-size=8M",
                "--innodb-flush-log-at-trx-commit=0",
                "--performance-schema=OFF",
                "--skip-name-resolve",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                self.sql("SELECT 1")
                return
            except Exception as error:  # the server is still starting: retry until the deadline
                last = error
                time.sleep(0.2)
        text = (self.folder / "mariadb.log").read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"mariadbd did not start: {last}\n{text}")

    def connect(self, database: str | None = None) -> Any:
        """A PyMySQL connection as root over the Unix socket (autocommit)."""
        import pymysql

        return pymysql.connect(
            unix_socket=str(self.socket), user="root", database=database, autocommit=True
        )

    def sql(self, script: str, database: str | None = None) -> None:
        """Run ``script`` as root, one statement per line-ending ``;``."""
        statements = [s.strip() for s in re.split(r";\s*\n", script + "\n") if s.strip()]
        connection = self.connect(database)
        try:
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement.rstrip(";"))
        finally:
            connection.close()

    def stop(self) -> None:
        """Stop the server by its process group (SIGTERM), SIGKILL after 30 s."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)

    def remove(self) -> None:
        """Stop the server and delete its folder."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> MariaDBServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()
