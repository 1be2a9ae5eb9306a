"""Issue 11, Entra ID: hostile and careless input. No bearer token over plain HTTP, no
credentials in URLs or messages, a saved-pages index that cannot reach outside its folder,
and a property test: any saved page yields valid tables or our SourceError naming the file.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accessaudit.connectors import CollectContext, Manifest, SourceSettings, find_manifests
from accessaudit.connectors._graph.pages import MAX_PAGE_BYTES, RAW_FORMAT
from accessaudit.connectors._graph.settings import redact_url
from accessaudit.connectors.entra import collect
from accessaudit.connectors.entra.shapes import SHAPES
from accessaudit.errors import ConfigError, SourceError
from accessaudit.model import TABLES
from accessaudit.sample._entra import build_tenant, tenant_pages
from graph_server import (
    CLIENT_ID,
    CLIENT_SECRET,
    Faults,
    GraphServer,
    PkiFiles,
    make_people,
    make_pki,
    sign_in_options,
)

AS_OF = pd.Timestamp("2026-11-21T12:00:00", tz="UTC")
SECRET_ENV = "ACCESSAUDIT_TEST_ENTRA_HOSTILE_SECRET"
URL_PASSWORD = "Pa55-in-the-URL"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PkiFiles:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def manifest() -> Manifest:
    return find_manifests()["entra-id"]


@pytest.fixture(scope="module")
def tenant() -> dict[str, Any]:
    return build_tenant(make_people(20, seed=4), as_of=AS_OF)


@pytest.fixture(autouse=True)
def client_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, CLIENT_SECRET)


def _live(server: GraphServer, pki: PkiFiles, **options: Any) -> SourceSettings:
    base = sign_in_options(server, pki, SECRET_ENV) | {"backoff_seconds": 0.01}
    return SourceSettings("entra", "entra-id", options=base | options)


def _serve(tenant: dict[str, Any], pki: PkiFiles, faults: Faults | None = None) -> GraphServer:
    return GraphServer(tenant, pki, faults=faults)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ---- no token over plain HTTP ---------------------------------------------------------------


@pytest.mark.parametrize("key", ["graph_url", "authority_url"])
def test_plain_http_endpoint_is_refused_before_anything_is_sent(
    key: str, tenant: dict[str, Any], pki: PkiFiles, manifest: Manifest
) -> None:
    with _serve(tenant, pki) as server:
        plain = server.base_url.replace("https://", "http://")
        with pytest.raises(ConfigError, match=rf"{key} '{plain}' is plain http") as caught:
            collect(_live(server, pki, **{key: plain}), manifest, CollectContext(as_of=AS_OF))
        assert "allow_plaintext = true" in str(caught.value)
        assert server.counters.token_requests == []
        assert server.counters.graph_requests == 0


def test_allow_plaintext_admits_http_for_a_lab_with_a_warning(
    tenant: dict[str, Any],
    pki: PkiFiles,
    manifest: Manifest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    lab = f"http://127.0.0.1:{_free_port()}"  # nothing listens: the request is attempted
    with _serve(tenant, pki) as server:
        settings = _live(server, pki, graph_url=lab, allow_plaintext=True, max_retries=0)
        with pytest.raises(SourceError, match="cannot reach Microsoft Graph"):
            collect(settings, manifest, CollectContext(as_of=AS_OF))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(f"graph_url {lab} is plain http" in w for w in warnings)


@pytest.mark.parametrize("value", ["ftp://graph.example", "graph.microsoft.com", 42])
def test_endpoint_that_is_not_an_https_url_is_a_config_error(
    value: Any, manifest: Manifest
) -> None:
    settings = SourceSettings(
        "entra", "entra-id", options={"tenant_id": "t", "client_id": CLIENT_ID, "graph_url": value}
    )
    with pytest.raises(ConfigError, match="graph_url"):
        collect(settings, manifest, CollectContext(as_of=AS_OF))


# ---- credentials never inside URLs, never in messages ---------------------------------------


@pytest.mark.parametrize("key", ["graph_url", "authority_url"])
def test_credentials_inside_an_endpoint_url_are_refused_and_redacted(
    key: str, tenant: dict[str, Any], pki: PkiFiles, manifest: Manifest
) -> None:
    with _serve(tenant, pki) as server:
        host = server.base_url.removeprefix("https://")
        url = f"https://auditor:{URL_PASSWORD}@{host}"
        with pytest.raises(ConfigError, match="holds credentials") as caught:
            collect(_live(server, pki, **{key: url}), manifest, CollectContext(as_of=AS_OF))
        assert URL_PASSWORD not in str(caught.value) and "auditor" not in str(caught.value)
        assert f"https://…@{host}" in str(caught.value)
        assert server.counters.token_requests == []


def test_next_link_to_another_host_is_refused_and_its_credentials_redacted(
    tenant: dict[str, Any], pki: PkiFiles, manifest: Manifest, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="accessaudit")
    foreign = f"https://collector:{URL_PASSWORD}@graph.attacker.example"
    faults = Faults(foreign_next_link=foreign)
    with (
        _serve(tenant, pki, faults) as server,
        pytest.raises(
            SourceError, match="leads to 'https://…@graph.attacker.example/v1.0/users"
        ) as e,
    ):
        collect(_live(server, pki, page_size=5), manifest, CollectContext(as_of=AS_OF))
    assert "access token is not sent there" in str(e.value)
    assert URL_PASSWORD not in str(e.value) and URL_PASSWORD not in caplog.text
    assert len(server.counters.users_pages) == 1  # the foreign link was never followed


def test_redact_url_hides_userinfo_and_opaque_parameters() -> None:
    assert redact_url("ldaps://u:p@host:636/x") == "ldaps://…@host:636/x"
    assert redact_url("https://h/v1.0/users?$top=5&$skiptoken=abc") == (
        "https://h/v1.0/users?$top=5&$skiptoken=…"
    )
    assert redact_url("https://[::1") == "…"


# ---- the saved-pages index stays inside its folder ------------------------------------------


def _saved(folder: Path, tenant: dict[str, Any]) -> dict[str, Any]:
    tenant_pages(tenant).save(folder)
    index: dict[str, Any] = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    return index


def _reread(folder: Path, manifest: Manifest) -> Any:
    settings = SourceSettings("entra", "entra-id", path=folder)
    return collect(settings, manifest, CollectContext(as_of=AS_OF))


def _outcome(folder: Path, manifest: Manifest) -> Any:
    """The collection's result, or the SourceError it raised (anything else propagates)."""
    try:
        return _reread(folder, manifest)
    except SourceError as error:
        return error


@pytest.mark.parametrize("name", ["../outside.json", "/etc/hostname", "pages/../../outside.json"])
def test_index_naming_a_file_outside_the_export_folder_is_refused(
    name: str, tenant: dict[str, Any], manifest: Manifest, tmp_path: Path
) -> None:
    folder = tmp_path / "export"
    (tmp_path / "outside.json").write_text('{"value": []}', encoding="utf-8")
    index = _saved(folder, tenant)
    index["pages"][0]["file"] = name
    (folder / "index.json").write_text(json.dumps(index), encoding="utf-8")
    with pytest.raises(SourceError, match="outside the export folder") as caught:
        _reread(folder, manifest)
    assert "index.json (page entry 1)" in str(caught.value)


def test_index_naming_a_link_that_leads_outside_is_refused(
    tenant: dict[str, Any], manifest: Manifest, tmp_path: Path
) -> None:
    folder = tmp_path / "export"
    secret = tmp_path / "elsewhere.json"
    secret.write_text('{"value": []}', encoding="utf-8")
    index = _saved(folder, tenant)
    first = folder / index["pages"][0]["file"]
    first.unlink()
    os.symlink(secret, first)
    with pytest.raises(SourceError, match="outside the export folder"):
        _reread(folder, manifest)


def test_oversized_page_and_unknown_index_version_are_refused_without_reading_them(
    tenant: dict[str, Any], manifest: Manifest, tmp_path: Path
) -> None:
    folder = tmp_path / "export"
    index = _saved(folder, tenant)
    first = folder / index["pages"][0]["file"]
    with first.open("r+b") as handle:  # sparse: no disk, no memory
        handle.truncate(MAX_PAGE_BYTES + 1)
    with pytest.raises(SourceError, match="too big for a Graph page") as caught:
        _reread(folder, manifest)
    assert str(first) in str(caught.value)
    index["version"] = 2
    (folder / "index.json").write_text(json.dumps(index), encoding="utf-8")
    with pytest.raises(
        SourceError, match="index.json: format version 2; this accessaudit reads version 1"
    ):
        _reread(folder, manifest)


# ---- any saved page: tables or our error naming the file ------------------------------------

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
_TIMES = st.sampled_from(
    ["2026-11-20T03:14:07Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-02-30", ""]
)


def _property(shape: Any) -> st.SearchStrategy[Any]:
    """Values for one documented property: mostly of the right kind, sometimes anything."""
    if isinstance(shape, dict):
        right: st.SearchStrategy[Any] = st.fixed_dictionaries(
            {}, optional={k: _property(v) for k, v in shape.items()}
        )
    elif isinstance(shape, list):
        right = st.lists(_property(shape[0]), max_size=3)
    else:
        right = {"str": st.text(max_size=20), "bool": st.booleans(), "time": _TIMES}[shape]
    return st.one_of(right, right, st.none(), _JSON)


def _objects(dataset: str) -> st.SearchStrategy[list[Any]]:
    shape = SHAPES[dataset]
    obj = st.fixed_dictionaries(
        {"id": st.one_of(st.uuids().map(str), st.uuids().map(str), st.text(max_size=5), _JSON)},
        optional={name: _property(kind) for name, kind in shape.items()},
    )
    return st.lists(st.one_of(obj, obj, obj, _JSON), max_size=6)


_DATASETS = sorted(SHAPES)


@st.composite
def _page_bytes(draw: st.DrawFn) -> tuple[str, bytes]:
    dataset = draw(st.sampled_from(_DATASETS))
    kind = draw(st.sampled_from(["page", "page", "page", "json", "bytes"]))
    if kind == "bytes":
        return dataset, draw(st.binary(max_size=200))
    if kind == "json":
        return dataset, json.dumps(draw(_JSON)).encode()
    body: dict[str, Any] = {"value": draw(_objects(dataset))}
    if draw(st.booleans()):
        body["@odata.nextLink"] = draw(st.one_of(st.text(max_size=10), _JSON))
    return dataset, json.dumps(body).encode()


@settings(
    max_examples=150,
    deadline=3000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(page=_page_bytes(), parent=st.one_of(st.none(), st.text(max_size=8), _JSON))
def test_any_saved_page_gives_valid_tables_or_a_source_error_naming_the_file(
    page: tuple[str, bytes], parent: Any, manifest: Manifest
) -> None:
    dataset, content = page
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        (folder / "pages").mkdir()
        file = folder / "pages" / "000001.json"
        file.write_bytes(content)
        entry = {"file": "pages/000001.json", "dataset": dataset, "parent": parent, "url": ""}
        index = {"format": RAW_FORMAT, "version": 1, "notes": {}, "pages": [entry]}
        (folder / "index.json").write_text(json.dumps(index), encoding="utf-8")
        tracemalloc.start()
        try:
            result = _outcome(folder, manifest)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 64 * 1024 * 1024  # a page of a few hundred bytes stays small
    if isinstance(result, SourceError):
        message = str(result)
        assert "pages/000001.json" in message or "index.json" in message, message
        assert len(message) < 2000
        return
    for name, table in result.tables.items():
        TABLES[name].check(table)
    json.dumps(result.report)  # the report is JSON-able, as the manifest needs


@settings(max_examples=60, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
@given(notes=_JSON, entries=_JSON)
def test_any_index_gives_valid_tables_or_a_source_error_naming_it(notes: Any, entries: Any) -> None:
    manifest = find_manifests()["entra-id"]
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        index = {"format": RAW_FORMAT, "version": 1, "notes": notes, "pages": entries}
        (folder / "index.json").write_text(json.dumps(index), encoding="utf-8")
        result = _outcome(folder, manifest)
    if isinstance(result, SourceError):
        assert directory in str(result) or str(folder.resolve()) in str(result), str(result)
        return
    for name, table in result.tables.items():
        TABLES[name].check(table)
