"""A headless "browser" for msal's interactive sign-in, run as ``$BROWSER`` (``%s`` = the URL).

It opens the authorize URL (trusting the test CA), and delivers the answer to msal's loopback
listener the way a browser would: it follows a 302 (``response_mode=query``) or submits the
auto-posting form (``response_mode=form_post``). ``--tamper challenge`` swaps the PKCE
``code_challenge`` before the authorize request (an intercepted, re-issued request), ``--tamper
state`` alters ``state`` in the answer (a forged response). What it saw goes to ``--log`` (JSON).

Python's ``webbrowser`` waits for a command-line browser to exit, while msal's listener only
answers once that wait is over; so the script detaches (forks) and returns at once.
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import urllib.error
import urllib.request
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["main"]

_OTHER_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636's example


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = values.get("action", "")
        elif tag == "input" and "name" in values:
            self.fields[values["name"]] = values.get("value", "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the loopback hop is made by hand, like the form post


def _fetch(
    opener: urllib.request.OpenerDirector, url: str, data: bytes | None = None
) -> tuple[int, dict[str, str], str]:
    try:
        with opener.open(url, data=data, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def browse(url: str, ca_file: str, tamper: str | None) -> list[dict[str, Any]]:
    """Sign in at ``url`` and hand the answer to the loopback listener; the steps taken."""
    steps: list[dict[str, Any]] = []
    context = ssl.create_default_context(cafile=ca_file)
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=context),
        urllib.request.ProxyHandler({}),
        _NoRedirect(),
    )
    if tamper == "challenge":
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        query["code_challenge"] = _OTHER_CHALLENGE
        url = urlunsplit(parts._replace(query=urlencode(query)))
    status, headers, body = _fetch(opener, url)
    steps.append({"url": url, "status": status})
    if status == 302:
        target = headers["Location"]
        if tamper == "state":
            parts = urlsplit(target)
            answer = dict(parse_qsl(parts.query)) | {"state": "forged-state"}
            target = urlunsplit(parts._replace(query=urlencode(answer)))
        status, _, body = _fetch(opener, target)
        steps.append({"url": target, "status": status, "body": body})
    elif status == 200:
        form = _Form()
        form.feed(body)
        if tamper == "state":
            form.fields["state"] = "forged-state"
        status, _, body = _fetch(opener, form.action, urlencode(form.fields).encode())
        steps.append({"url": form.action, "status": status, "body": body, "post": True})
    else:
        steps[-1]["body"] = body
    return steps


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, detach, browse, log."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--tamper", choices=["state", "challenge"])
    parser.add_argument("url")
    args = parser.parse_args(argv)
    if os.fork():
        return 0  # the launcher returns; the child carries on
    try:
        steps = browse(args.url, args.ca, args.tamper)
    except Exception as error:  # whatever it is, the test reads it in the log
        steps = [{"error": repr(error)}]
    with open(args.log, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(steps) + "\n")
    os._exit(0)


if __name__ == "__main__":
    raise SystemExit(main())
