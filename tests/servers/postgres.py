"""Start a throw-away PostgreSQL cluster on a free 127.0.0.1 port, TLS only.

``initdb`` and ``postgres`` refuse to run as root, and the test suite runs as root in CI: the
cluster then belongs to the ``postgres`` system user (Debian's package creates it) and both
programs run under ``runuser``. Its folder is a fresh ``/tmp`` directory that user can reach
(pytest's own temporary folders are private to root). The server accepts only ``hostssl``
connections from 127.0.0.1 with SCRAM passwords, presents a certificate from the test CA, and
keeps its Unix socket inside its folder, so it never meets a system cluster.
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

from .slapd import free_port
from .tls import TestPKI, make_pki

__all__ = ["SUPERUSER", "SUPERUSER_PASSWORD", "PostgresServer", "postgres_bin"]

SUPERUSER = "postgres"
SUPERUSER_PASSWORD = "pg-super-secret-42"
_SYSTEM_USER = "postgres"


def postgres_bin(name: str) -> str | None:
    """The newest installed PostgreSQL's ``name`` program (Debian keeps them out of PATH)."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    if candidates:
        return str(candidates[-1])
    return shutil.which(name)


def _as_root() -> bool:
    return os.geteuid() == 0


@dataclass
class PostgresServer:
    """One PostgreSQL cluster: ``start()``, ``stop()``, ``sql()``; a context manager."""

    port: int = field(default_factory=free_port)
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="aa-pg-")))
    process: subprocess.Popen[bytes] | None = None
    pki: TestPKI | None = None

    @property
    def ca_cert(self) -> Path:
        """The test CA that signed the server certificate."""
        assert self.pki is not None
        return self.pki.ca_cert

    def _run_as_owner(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", _SYSTEM_USER, "--", *argv] if _as_root() else argv

    def configure(self) -> None:
        """initdb the cluster, write its TLS files and the ``hostssl``-only pg_hba.conf."""
        initdb = postgres_bin("initdb")
        assert initdb is not None
        self.folder.mkdir(parents=True, exist_ok=True)
        self.pki = make_pki(self.folder / "tls")
        password_file = self.folder / "pwfile"
        password_file.write_text(SUPERUSER_PASSWORD + "\n", encoding="utf-8")
        if _as_root():
            owner = pwd.getpwnam(_SYSTEM_USER)
            self.folder.chmod(0o755)
            for path in [self.folder, *self.folder.rglob("*")]:
                os.chown(path, owner.pw_uid, owner.pw_gid)
        data = self.folder / "data"
        subprocess.run(
            self._run_as_owner(
                [
                    initdb,
                    "-D",
                    str(data),
                    "-U",
                    SUPERUSER,
                    f"--pwfile={password_file}",
                    "--auth-host=scram-sha-256",
                    "--auth-local=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )
        password_file.unlink()
        assert self.pki is not None
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.folder}'",
            "ssl": "on",
            "ssl_cert_file": f"'{self.pki.server_cert}'",
            "ssl_key_file": f"'{self.pki.server_key}'",
            "ssl_ca_file": f"'{self.pki.ca_cert}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "'32MB'",
            "max_connections": "40",
            "log_connections": "on",
            "logging_collector": "off",
        }
        with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        # TLS or nothing: a plaintext connection from 127.0.0.1 is rejected outright.
        (data / "pg_hba.conf").write_text(
            "local all all scram-sha-256\n"
            "hostssl all all 127.0.0.1/32 scram-sha-256\n"
            "hostnossl all all 127.0.0.1/32 reject\n",
            encoding="utf-8",
        )

    def start(self, timeout: float = 30.0) -> None:
        """Start ``postgres`` in its own session and wait until it accepts TLS connections."""
        if self.pki is None:
            self.configure()
        server = postgres_bin("postgres")
        assert server is not None
        log = (self.folder / "postgres.log").open("ab")
        self.process = subprocess.Popen(
            self._run_as_owner([server, "-D", str(self.folder / "data")]),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                self.sql("SELECT 1")
                return
            except Exception as error:
                last = error
                time.sleep(0.2)
        text = (self.folder / "postgres.log").read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"postgres did not start: {last}\n{text}")

    def connect(self, dbname: str = "postgres", **extra: Any) -> Any:
        """A psycopg connection as the superuser over verified TLS (autocommit)."""
        import psycopg

        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            dbname=dbname,
            user=SUPERUSER,
            password=SUPERUSER_PASSWORD,
            sslmode="verify-full",
            sslrootcert=str(self.ca_cert),
            autocommit=True,
            connect_timeout=5,
            **extra,
        )

    def sql(self, script: str, dbname: str = "postgres") -> None:
        """Run ``script`` as the superuser in ``dbname``, one statement per line-ending ``;``
        (each on its own, since CREATE DATABASE refuses to run inside a transaction)."""
        statements = [s.strip() for s in re.split(r";\s*\n", script + "\n") if s.strip()]
        with self.connect(dbname) as connection:
            for statement in statements:
                connection.execute(statement.rstrip(";"))

    def stop(self) -> None:
        """Stop the server by its PID (SIGINT: fast shutdown), SIGKILL after 20 s."""
        if self.process is not None and self.process.poll() is None:
            # Under runuser the child is postgres itself only after exec; signal the group
            # of the session we started, which holds nothing but this server.
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)

    def remove(self) -> None:
        """Stop the server and delete its folder."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()
