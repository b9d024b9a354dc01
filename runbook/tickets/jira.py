"""A small client for JIRA's REST API v2 (Server, Data Center and Cloud all serve it).

Only what the ticket round trip needs: read an issue, add or update a comment, list and
perform transitions. Plain ``urllib`` rather than the ``jira`` package (see the README's
"Libraries and why"): five JSON requests, our own timeouts and rate-limit waits, and error
messages that can never carry the credentials.

Credentials come only from the environment: ``RUNBOOK_JIRA_TOKEN`` (a personal access token,
sent as ``Authorization: Bearer``) or ``RUNBOOK_JIRA_USER`` + ``RUNBOOK_JIRA_PASSWORD``
(basic authentication; on Cloud the password is an API token). They are sent only over
HTTPS (plain HTTP only to a loopback address), and every message built from a server's
answer has them masked.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

from runbook.errors import ConfigError, RunbookError

API = "/rest/api/2"
ISSUE_KEY = re.compile(r"[A-Z][A-Z0-9_]{0,49}-[1-9][0-9]{0,9}")
ISSUE_FIELDS = "summary,created,reporter,priority,project,status"
DEFAULT_TIMEOUT = 20.0
# The longest runbook waits for a rate limit (429/503 with Retry-After) over one request.
# JIRA Cloud's waits are usually seconds; a longer one is reported instead of hanging a run.
MAX_WAIT = 30.0
MAX_ATTEMPTS = 4


class JiraError(RunbookError):
    """JIRA refused a request or could not be reached: names the server, the request and
    what JIRA said (its ``errorMessages``), never the credentials. ``status`` is the HTTP
    status, None for a network failure."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class JiraCredentials:
    """How we log in: a bearer token (PAT) or user + password; the secret is never shown."""

    scheme: str                                  # "bearer" | "basic"
    user: str | None
    secret: str = field(repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> JiraCredentials:
        """RUNBOOK_JIRA_TOKEN, else RUNBOOK_JIRA_USER + RUNBOOK_JIRA_PASSWORD; ConfigError if neither."""
        token = env.get("RUNBOOK_JIRA_TOKEN")
        if token:
            return cls("bearer", None, token)
        user, password = env.get("RUNBOOK_JIRA_USER"), env.get("RUNBOOK_JIRA_PASSWORD")
        if user and password:
            return cls("basic", user, password)
        missing = "RUNBOOK_JIRA_PASSWORD" if user else "RUNBOOK_JIRA_TOKEN"
        raise ConfigError(f"no JIRA credentials: set RUNBOOK_JIRA_TOKEN (a personal access token) or "
                          f"RUNBOOK_JIRA_USER and RUNBOOK_JIRA_PASSWORD ({missing} is empty)",
                          field="environment")

    def authorization(self) -> str:
        """The Authorization header's value."""
        if self.scheme == "bearer":
            return f"Bearer {self.secret}"
        raw = f"{self.user}:{self.secret}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    def mask(self, text: str) -> str:
        """``text`` with the secret (and its basic-auth encoding) replaced by ***."""
        for value in (self.secret, self.authorization().split(" ", 1)[1]):
            if value:
                text = text.replace(value, "***")
        return text

    def describe(self) -> str:
        """Which credentials are in use, for a message: the variable names, never the secret."""
        return ("RUNBOOK_JIRA_TOKEN" if self.scheme == "bearer"
                else f"RUNBOOK_JIRA_USER={self.user} / RUNBOOK_JIRA_PASSWORD")


def check_issue_key(key: str) -> str:
    """An issue key as JIRA writes it (ACME-412); ConfigError (field KEY) otherwise."""
    if not isinstance(key, str) or not ISSUE_KEY.fullmatch(key):
        raise ConfigError(f"not a JIRA issue key: {key!r} (e.g. ACME-412)", field="KEY")
    return key


def parse_jira_time(text: str) -> datetime:
    """JIRA's timestamps, "2026-11-25T02:14:07.000+0100" (the offset without a colon)."""
    for pattern in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(text, pattern)
        except (TypeError, ValueError):
            continue
    raise ValueError(f"not a JIRA time: {text!r}")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Text(HTMLParser):
    """The visible text of an HTML error page (JIRA Server answers 401 with one)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self._skip += tag in ("script", "style", "title")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style", "title") and self._skip > 0

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(" ".join(data.split()))


def _said(body: bytes, content_type: str) -> str:
    """What JIRA said in an error body: its errorMessages and errors, or the page's text."""
    text = body.decode("utf-8", "replace")
    if "json" in content_type or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            said = [str(m) for m in data.get("errorMessages") or []]
            said += [f"{k}: {v}" for k, v in (data.get("errors") or {}).items()]
            if data.get("message"):
                said.append(str(data["message"]))
            if said:
                return "; ".join(said)
    if "html" in content_type or text.lstrip().startswith("<"):
        parser = _Text()
        parser.feed(text)
        text = " ".join(parser.parts)
    return " ".join(text.split())[:300]


class JiraClient:
    """Requests to one JIRA server as one user.

    base_url: the server's URL (https://jira.example, or with a context path); cafile: a CA
    bundle for a private certificate authority; timeout: seconds per request (connect and
    each read); max_wait: the most runbook waits for rate limits over one request;
    sleep: how to wait (tests pass a recorder).
    """

    def __init__(self, base_url: str, credentials: JiraCredentials, *, cafile: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, max_wait: float = MAX_WAIT,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ConfigError(f"not an http(s) URL: {base_url!r}", field="customer.jira.url")
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            raise ConfigError(f"refusing to send JIRA credentials over plain http to {parts.hostname}; "
                              "use https", field="customer.jira.url")
        self.base_url = base_url.rstrip("/")
        self.host = parts.netloc
        self.credentials = credentials
        self.timeout = timeout
        self.max_wait = max_wait
        self._sleep = sleep
        context = ssl.create_default_context(cafile=cafile) if parts.scheme == "https" else None
        # No redirects: urllib would follow one to another host with our Authorization header.
        self._opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context),
                                                   _NoRedirect())

    # -- the endpoints ------------------------------------------------------------------------

    def issue(self, key: str) -> dict[str, Any]:
        """GET /issue/KEY with the fields an incident needs (summary, created, reporter, ...)."""
        return self._request("GET", f"/issue/{_q(check_issue_key(key))}?fields={ISSUE_FIELDS}",
                             what=key)

    def add_comment(self, key: str, body: str) -> dict[str, Any]:
        """POST /issue/KEY/comment: the new comment (with its ``id``)."""
        return self._request("POST", f"/issue/{_q(check_issue_key(key))}/comment", {"body": body},
                             what=key)

    def update_comment(self, key: str, comment_id: str, body: str) -> dict[str, Any]:
        """PUT /issue/KEY/comment/ID: replace a comment's text."""
        return self._request("PUT", f"/issue/{_q(check_issue_key(key))}/comment/{_q(comment_id)}",
                             {"body": body}, what=f"{key} comment {comment_id}")

    def transitions(self, key: str) -> list[dict[str, Any]]:
        """GET /issue/KEY/transitions: what the issue can move to from its current status."""
        data = self._request("GET", f"/issue/{_q(check_issue_key(key))}/transitions", what=key)
        found = data.get("transitions") if isinstance(data, dict) else None
        if not isinstance(found, list):
            raise JiraError(f"{self.host}: {key}: transitions: unexpected answer (no list)")
        return [t for t in found if isinstance(t, dict)]

    def transition(self, key: str, transition_id: str) -> None:
        """POST /issue/KEY/transitions {"transition": {"id": ...}} (JIRA answers 204)."""
        self._request("POST", f"/issue/{_q(check_issue_key(key))}/transitions",
                      {"transition": {"id": str(transition_id)}}, what=key)

    # -- one request ---------------------------------------------------------------------------

    def _request(self, method: str, path: str, body: Any = None, *, what: str) -> Any:
        data = json.dumps(body).encode("utf-8") if body is not None else None
        waited = 0.0
        for attempt in range(1, MAX_ATTEMPTS + 1):
            request = urllib.request.Request(self.base_url + API + path, data=data, method=method)
            request.add_header("Accept", "application/json")
            request.add_header("Authorization", self.credentials.authorization())
            if data is not None:
                request.add_header("Content-Type", "application/json")
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    raw = response.read()
            except urllib.error.HTTPError as exc:
                wait = self._retry_after(exc, waited, attempt, what, method)
                if wait is None:
                    raise self._error(exc, what, method) from None
                self._sleep(wait)
                waited += wait
                continue
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                if isinstance(reason, (socket.timeout, TimeoutError)):
                    raise JiraError(f"{self.host}: no answer within {self.timeout:g} s ({method} {what})") from None
                raise JiraError(self.credentials.mask(f"{self.host}: cannot connect: {reason}")) from None
            if not raw.strip():
                return {}
            try:
                return json.loads(raw)
            except json.JSONDecodeError:
                raise JiraError(f"{self.host}: {method} {what}: the answer is not JSON "
                                f"({_said(raw, '')[:80]!r})") from None
        raise JiraError(f"{self.host}: {method} {what}: still rate limited after {MAX_ATTEMPTS} attempts")

    def _retry_after(self, exc: urllib.error.HTTPError, waited: float, attempt: int, what: str,
                     method: str) -> float | None:
        """Seconds to wait before the next attempt, or None when this error is final."""
        if exc.code not in (429, 503) or attempt == MAX_ATTEMPTS:
            return None
        header = exc.headers.get("Retry-After", "") if exc.headers else ""
        try:
            wait = float(header)
        except ValueError:
            return None if exc.code == 503 else 1.0 * attempt
        if wait < 0 or waited + wait > self.max_wait:
            raise JiraError(f"{self.host}: {method} {what}: rate limited (429); JIRA asks to wait "
                            f"{wait:g} s, longer than runbook waits ({self.max_wait:g} s): try again later",
                            status=exc.code) from None
        return wait

    def _error(self, exc: urllib.error.HTTPError, what: str, method: str) -> JiraError:
        body = exc.read()
        said = self.credentials.mask(_said(body, exc.headers.get("Content-Type", "") if exc.headers else ""))
        reason = exc.headers.get("X-Seraph-LoginReason") if exc.headers else None
        if exc.code == 401:
            why = f"; {reason}" if reason else ""
            message = (f"JIRA refused the credentials (401{why}): check {self.credentials.describe()}"
                       + (f" ({said})" if said else ""))
        elif exc.code == 403:
            message = f"{method} {what}: not allowed for this user (403)" + (f": {said}" if said else "")
        elif exc.code == 404:
            message = f"{what}: not found, or not visible to this user (404)" + (f": {said}" if said else "")
        elif exc.code == 429:
            message = f"{method} {what}: rate limited (429)" + (f": {said}" if said else "")
        else:
            message = f"{method} {what}: JIRA answered {exc.code}" + (f": {said}" if said else "")
        return JiraError(f"{self.host}: {message}", status=exc.code)


def _q(part: str) -> str:
    return urllib.parse.quote(str(part), safe="")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        raise urllib.error.HTTPError(req.full_url, code, f"redirect to {newurl} not followed", headers, fp)
