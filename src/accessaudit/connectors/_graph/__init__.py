"""Microsoft Graph plumbing shared by every Graph connector (``entra-id``, ``m365``).

Not a connector: it reads nothing on its own and imports no connector. It holds what talking
to Graph takes, whatever is read:

* :mod:`.settings`: where Graph and the sign-in authority are (HTTPS only, no credentials in
  the URL), the transport settings (page and ``$batch`` sizes, retries, back-off), URLs made
  safe for messages.
* :mod:`.auth`: msal sign-in (client secret, certificate, device code, interactive) and the
  token cache.
* :mod:`.client`: requests with paging (``@odata.nextLink`` kept on the Graph host),
  ``$batch``, 429/503 with ``Retry-After``, one fresh token after a 401, request statistics.
* :mod:`.pages`: the pages read, saved with ``--save-raw`` and re-read.
* :mod:`.shapes`: checking pages against the documented shapes each connector states.
"""

from __future__ import annotations

__all__: list[str] = []
