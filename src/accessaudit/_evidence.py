"""The evidence chain of a snapshot: its manifest, the digest that names it and an optional
signature.

**Canonical manifest.** ``manifest.json`` parsed as JSON, without its ``signature`` member,
written again with sorted keys, no whitespace (separators ``,`` and ``:``), non-ASCII
characters as UTF-8 (not ``\\u`` escapes), and encoded as UTF-8. The same manifest therefore
gives the same bytes whatever indentation or key order the file on disk has.

**Digest.** The SHA-256 (hex) of the canonical manifest. The manifest holds the SHA-256 of every
table, so the digest pins every byte of the snapshot: editing a table and re-hashing the
manifest changes it. ``collect`` prints it, reports and campaigns record it, and
``accessaudit verify DIR --digest HEX`` checks it against the value an auditor wrote down.

**Signature.** Optional Ed25519 over the canonical manifest, with a key only the auditor holds
(``collect --sign-key key.pem``); ``verify --public-key key.pub`` checks it. A key pair::

    openssl genpkey -algorithm ed25519 -out audit-key.pem        # add -aes256 for a passphrase
    openssl pkey -in audit-key.pem -pubout -out audit-key.pub

>>> manifest_digest({"b": 1, "a": "é", "signature": {"value": "x"}}) == manifest_digest(
...     {"a": "é", "b": 1})
True
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accessaudit.errors import ConfigError, SnapshotError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

# cryptography is imported by the functions that sign or check (40 ms of the start of every
# command that reads a snapshot, and most never sign).

__all__ = [
    "MANIFEST_FORMAT",
    "MANIFEST_NAME",
    "PASSPHRASE_ENV",
    "SIGNATURE_MEMBER",
    "canonical_manifest",
    "check_signature",
    "generate_key_pair",
    "load_public_key",
    "load_signing_key",
    "manifest_digest",
    "read_manifest",
    "sign_manifest",
]

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "accessaudit-snapshot"
SIGNATURE_MEMBER = "signature"
PASSPHRASE_ENV = "ACCESSAUDIT_KEY_PASSPHRASE"
_ALGORITHM = "ed25519"
_MAX_KEY_FILE = 64 * 1024
_MAX_MANIFEST_BYTES = 16 << 20


def canonical_manifest(manifest: Mapping[str, Any]) -> bytes:
    """The canonical bytes of ``manifest`` (see the module text): what is digested and signed."""
    body = {key: value for key, value in manifest.items() if key != SIGNATURE_MEMBER}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def manifest_digest(manifest: Mapping[str, Any]) -> str:
    """The snapshot digest: SHA-256 (hex) of :func:`canonical_manifest`."""
    return hashlib.sha256(canonical_manifest(manifest)).hexdigest()


def load_signing_key(
    path: Path | str, *, passphrase_env: str = PASSPHRASE_ENV
) -> Ed25519PrivateKey:
    """Read an Ed25519 private key (PEM, PKCS#8 as ``openssl genpkey`` writes it).

    An encrypted key is opened with the passphrase in the environment variable
    ``passphrase_env``; the passphrase never comes from the command line or the config.
    Any problem is a :class:`ConfigError` naming the file.
    """
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: PLC0415
    from cryptography.hazmat.primitives.serialization import load_pem_private_key  # noqa: PLC0415

    file = Path(path)
    data = _read_key_file(file)
    passphrase = os.environ.get(passphrase_env)
    try:
        key = load_pem_private_key(data, password=passphrase.encode() if passphrase else None)
    except TypeError as error:
        # cryptography says TypeError both for "encrypted, no password" and the reverse.
        if passphrase:
            raise ConfigError(
                f"{file}: the key is not encrypted; unset {passphrase_env}"
            ) from error
        raise ConfigError(
            f"{file}: the key is encrypted; put its passphrase in the environment variable "
            f"{passphrase_env}"
        ) from error
    except ValueError as error:
        raise ConfigError(
            f"{file}: not a readable PEM private key, or the passphrase in {passphrase_env} is "
            "wrong"
        ) from error
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{file}: not an Ed25519 key (openssl genpkey -algorithm ed25519)")
    return key


def load_public_key(path: Path | str) -> Ed25519PublicKey:
    """Read an Ed25519 public key (PEM ``PUBLIC KEY``, as ``openssl pkey -pubout`` writes it);
    a :class:`ConfigError` naming the file when it is not one."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey  # noqa: PLC0415
    from cryptography.hazmat.primitives.serialization import load_pem_public_key  # noqa: PLC0415

    file = Path(path)
    try:
        key = load_pem_public_key(_read_key_file(file))
    except (ValueError, TypeError) as error:
        raise ConfigError(f"{file}: not a readable PEM public key") from error
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{file}: not an Ed25519 public key")
    return key


def sign_manifest(manifest: Mapping[str, Any], key: Ed25519PrivateKey) -> dict[str, str]:
    """The ``signature`` member for ``manifest``: algorithm, the signer's public key and the
    Ed25519 signature of the canonical manifest (both base64)."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat  # noqa: PLC0415

    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {
        "algorithm": _ALGORITHM,
        "public_key": base64.b64encode(public).decode("ascii"),
        "value": base64.b64encode(key.sign(canonical_manifest(manifest))).decode("ascii"),
    }


def check_signature(manifest: Mapping[str, Any], key: Ed25519PublicKey) -> str | None:
    """None when ``manifest`` carries a valid signature by ``key``; otherwise the problem."""
    from cryptography.exceptions import InvalidSignature  # noqa: PLC0415

    signature = manifest.get(SIGNATURE_MEMBER)
    if signature is None:
        return "the manifest is not signed"
    if not isinstance(signature, Mapping) or signature.get("algorithm") != _ALGORITHM:
        return "the manifest's signature is not an Ed25519 signature"
    try:
        value = base64.b64decode(str(signature.get("value", "")), validate=True)
    except (binascii.Error, ValueError):
        return "the manifest's signature is not base64"
    try:
        key.verify(value, canonical_manifest(manifest))
    except InvalidSignature:
        return (
            "the manifest's signature does not match this public key "
            "(the manifest was altered, or another key signed it)"
        )
    return None


def generate_key_pair(
    private_file: Path | str, *, passphrase_env: str = PASSPHRASE_ENV
) -> tuple[Path, Path]:
    """Write a new Ed25519 key pair: ``private_file`` (PEM PKCS#8, mode 0600, encrypted with
    the passphrase in ``passphrase_env`` when that variable is set) and the public key beside
    it with the suffix ``.pub``. Existing files are never overwritten (:class:`ConfigError`).
    Returns both paths; the same as the two ``openssl`` commands in the module text."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: PLC0415
    from cryptography.hazmat.primitives.serialization import (  # noqa: PLC0415
        BestAvailableEncryption,
        Encoding,
        KeySerializationEncryption,
        NoEncryption,
        PrivateFormat,
        PublicFormat,
    )

    private = Path(private_file)
    public = private.with_suffix(".pub")
    for file in (private, public):
        if file.exists() or file.is_symlink():
            raise ConfigError(f"{file} exists; keys are never overwritten")
    key = Ed25519PrivateKey.generate()
    passphrase = os.environ.get(passphrase_env)
    encryption: KeySerializationEncryption = (
        BestAvailableEncryption(passphrase.encode()) if passphrase else NoEncryption()
    )
    try:
        descriptor = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, encryption))
        public.write_bytes(
            key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        )
    except OSError as error:
        raise ConfigError(f"cannot write {private}: {error.strerror or error}") from error
    return private, public


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of snapshot ``folder``, checked for shape (format, dates, table entries
    naming files directly inside the folder); every problem is a :class:`SnapshotError`."""
    file = folder / MANIFEST_NAME
    if not file.is_file():
        raise SnapshotError(f"{folder} is not a snapshot: {MANIFEST_NAME} is missing")
    try:
        with file.open("rb") as stream:
            data = stream.read(_MAX_MANIFEST_BYTES + 1)
    except OSError as error:
        raise SnapshotError(f"{file}: cannot read ({error.strerror or error})") from error
    if len(data) > _MAX_MANIFEST_BYTES:
        raise SnapshotError(f"{file}: larger than {_MAX_MANIFEST_BYTES >> 20} MB, not a manifest")
    try:
        manifest = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        # ValueError covers JSONDecodeError, duplicate keys and over-long numbers.
        raise SnapshotError(f"{file}: not a valid manifest ({error})") from error
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise SnapshotError(f"{file}: not an accessaudit snapshot manifest")
    # Imported here: the command line imports this module to build its parser, and building
    # the parser must not load pandas (``accessaudit --help`` starts at once).
    from accessaudit.model import utc_timestamp  # noqa: PLC0415

    try:
        utc_timestamp(str(manifest.get("as_of")))
    except (ValueError, TypeError, OverflowError) as error:
        raise SnapshotError(f"{file}: 'as_of' is not a date ({error})") from error
    sources = manifest.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(s, dict) for s in sources):
        raise SnapshotError(f"{file}: 'sources' is not a list of objects")
    if not isinstance(manifest.get("correlation", {}), dict):
        raise SnapshotError(f"{file}: 'correlation' is not an object")
    tables = manifest.get("tables")
    if not isinstance(tables, dict):
        raise SnapshotError(f"{file}: 'tables' is not an object of table entries")
    for name, entry in tables.items():
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("file"), str)
            and isinstance(entry.get("sha256"), str)
        ):
            raise SnapshotError(f"{file}: table {name!r} has no file name and SHA-256")
        name_on_disk = entry["file"]
        if (
            name_on_disk in ("", ".", "..", MANIFEST_NAME)
            or Path(name_on_disk).name != name_on_disk
            or "\\" in name_on_disk
            or "\0" in name_on_disk
        ):
            raise SnapshotError(
                f"{file}: table {name!r} names {name_on_disk!r}, a path outside the snapshot "
                "folder (a table must be a file directly inside it)"
            )
    return manifest


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two values for one key would let a reader and a verifier see different manifests.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"key {key!r} appears twice")
        result[key] = value
    return result


def _read_key_file(file: Path) -> bytes:
    try:
        with file.open("rb") as stream:
            data = stream.read(_MAX_KEY_FILE + 1)
    except OSError as error:
        raise ConfigError(f"{file}: cannot read the key ({error.strerror or error})") from error
    if len(data) > _MAX_KEY_FILE:
        raise ConfigError(f"{file}: too large to be a key file")
    return data
