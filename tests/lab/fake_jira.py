"""A loopback stand-in for JIRA's REST API v2: no JIRA server can run here.

It serves exactly the shapes JIRA documents for the endpoints runbook uses, over HTTPS with
the lab's throw-away CA:

- GET  /rest/api/2/issue/{key}                 200 issue {id, key, self, fields{...}}
- POST /rest/api/2/issue/{key}/comment         201 the comment {self, id, author, body, created, updated}
- GET  /rest/api/2/issue/{key}/comment         200 {startAt, maxResults, total, comments: [...]}
- PUT  /rest/api/2/issue/{key}/comment/{id}    200 the comment
- GET  /rest/api/2/issue/{key}/transitions     200 {expand, transitions: [{id, name, to{...}}]}
- POST /rest/api/2/issue/{key}/transitions     204, no body
- errors: {"errorMessages": [...], "errors": {...}} with 400/404; 401 as JIRA Server answers
  it (an HTML page and ``X-Seraph-LoginReason: AUTHENTICATED_FAILED``); 429 with Retry-After.

Every request is recorded (method, path, Authorization header, body) for the tests to read.
"""

from __future__ import annotations

import base64
import json
import re
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.lab.certs import ServerCert, make_server_cert
from tests.lab.processes import ensure_free

JIRA_OCTET = 61
JIRA_PORT = 10443
TOKEN = "pat-Zm9vYmFyLXNlY3JldC10b2tlbi00MTI"     # the PAT the fake accepts as Bearer
USER, PASSWORD = "oncall-bot", "Jira-Passw0rd-412"  # and the basic-auth pair
STATUSES = {
    "1": {"id": "1", "name": "Offen", "statusCategory": {"id": 2, "key": "new", "name": "To Do"}},
    "3": {"id": "3", "name": "In Arbeit", "statusCategory": {"id": 4, "key": "indeterminate",
                                                           "name": "In Progress"}},
    "6": {"id": "6", "name": "Erledigt", "statusCategory": {"id": 3, "key": "done", "name": "Done"}},
}
# From each status: (transition id, name, target status id), as a simple service workflow.
WORKFLOW = {"1": [("11", "Arbeit beginnen", "3"), ("31", "Schließen", "6")],
            "3": [("21", "Zurückstellen", "1"), ("31", "Schließen", "6")],
            "6": [("41", "Wieder öffnen", "1")]}
UNAUTHORIZED_PAGE = """<html><head><title>Unauthorized (401)</title></head><body>
<h1>Unauthorized (401)</h1><p>Encountered a &quot;401 - Unauthorized&quot; error while loading this page.</p>
<p>Basic Authentication Failure - Reason : AUTHENTICATED_FAILED</p><a href="/">Go to Jira home</a></body></html>"""


@dataclass
class Recorded:
    """One request as the fake saw it."""

    method: str
    path: str
    authorization: str | None
    body: Any


@dataclass
class FakeJiraState:
    """Issues, comments and scripted trouble; guarded by ``lock``."""

    base_url: str
    issues: dict[str, dict[str, Any]] = field(default_factory=dict)
    comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    rate_limited: list[str] = field(default_factory=list)   # Retry-After values for the next 429s
    next_comment_id: int = 10000
    lock: threading.Lock = field(default_factory=threading.Lock)


def person(name: str, display: str, email: str, base: str) -> dict[str, Any]:
    """A JIRA user object as issue fields carry it."""
    return {"self": f"{base}/rest/api/2/user?username={name}", "name": name, "key": name,
            "emailAddress": email, "displayName": display, "active": True, "timeZone": "Europe/Berlin"}


class FakeJira:
    """The fake on ``<subnet>.61:10443`` (HTTPS); ``url`` is what an inventory names."""

    def __init__(self, subnet: str, directory: Path) -> None:
        self.address = f"{subnet}.{JIRA_OCTET}"
        self.port = JIRA_PORT
        self.url = f"https://{self.address}:{self.port}"
        self.cert: ServerCert = make_server_cert(directory, self.address, name="runbook jira lab")
        self.state = FakeJiraState(base_url=self.url)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FakeJira:
        ensure_free(self.address, self.port)   # a clear message naming who holds the port
        handler = type("Handler", (_Handler,), {"state": self.state})
        server = ThreadingHTTPServer((self.address, self.port), handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert.cert, self.cert.key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="fake-jira", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- what a test sets up and reads -------------------------------------------------------

    def add_issue(self, key: str, *, summary: str, created: str, priority: str | None = "Highest",
                  reporter: tuple[str, str, str] = ("aschmidt", "Anna Schmidt", "anna.schmidt@acme.example"),
                  status: str = "1") -> dict[str, Any]:
        """An issue as GET /issue/KEY returns it; ``priority=None`` leaves the field null."""
        base = self.url
        project = key.rpartition("-")[0]
        number = int(key.rpartition("-")[2])
        fields: dict[str, Any] = {
            "summary": summary,
            "created": created,
            "updated": created,
            "reporter": person(*reporter, base),
            "priority": ({"self": f"{base}/rest/api/2/priority/1", "iconUrl": f"{base}/images/icons/priorities/"
                          f"{priority.lower()}.svg", "name": priority, "id": "1"} if priority else None),
            "project": {"self": f"{base}/rest/api/2/project/{project}", "id": "10000", "key": project,
                        "name": f"{project} Betrieb", "projectTypeKey": "service_desk"},
            "status": {"self": f"{base}/rest/api/2/status/{status}", **STATUSES[status]},
            "issuetype": {"self": f"{base}/rest/api/2/issuetype/10002", "id": "10002", "name": "Störung"},
        }
        issue = {"expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
                 "id": str(20000 + number), "self": f"{base}/rest/api/2/issue/{20000 + number}", "key": key,
                 "fields": fields}
        with self.state.lock:
            self.state.issues[key] = issue
            self.state.comments.setdefault(key, [])
        return issue

    def comments(self, key: str) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(c) for c in self.state.comments.get(key, [])]

    def status(self, key: str) -> str:
        with self.state.lock:
            return self.state.issues[key]["fields"]["status"]["name"]

    def delete_comment(self, key: str, comment_id: str) -> None:
        with self.state.lock:
            self.state.comments[key] = [c for c in self.state.comments[key] if c["id"] != comment_id]

    def rate_limit_next(self, *retry_after: str) -> None:
        """Answer the next requests 429 with these Retry-After values, one each."""
        with self.state.lock:
            self.state.rate_limited.extend(retry_after)

    def requests(self) -> list[Recorded]:
        with self.state.lock:
            return list(self.state.requests)

    def reset(self) -> None:
        with self.state.lock:
            self.state.issues.clear()
            self.state.comments.clear()
            self.state.requests.clear()
            self.state.rate_limited.clear()


_ISSUE = re.compile(r"^/rest/api/2/issue/([^/?]+)(/comment(?:/([^/?]+))?|/transitions)?(?:\?.*)?$")


class _Handler(BaseHTTPRequestHandler):
    state: FakeJiraState
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read ``requests``
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def _send(self, status: int, body: Any = None, *, headers: dict[str, str] | None = None,
              content_type: str = "application/json;charset=UTF-8") -> None:
        data = b"" if body is None else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if data:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self) -> bool:
        value = self.headers.get("Authorization", "")
        basic = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        return value in (f"Bearer {TOKEN}", basic)

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = raw.decode("utf-8", "replace")
        state = self.state
        with state.lock:
            state.requests.append(Recorded(method, self.path, self.headers.get("Authorization"), body))
            if state.rate_limited:
                wait = state.rate_limited.pop(0)
                return self._send(429, "Rate limit exceeded.", content_type="text/plain;charset=UTF-8",
                                  headers={"Retry-After": wait, "X-RateLimit-Limit": "100",
                                           "X-RateLimit-Remaining": "0"})
            if not self._authorized():
                return self._send(401, UNAUTHORIZED_PAGE, content_type="text/html;charset=UTF-8",
                                  headers={"X-Seraph-LoginReason": "AUTHENTICATED_FAILED",
                                           "WWW-Authenticate": 'Basic realm="protected-area"'})
            match = _ISSUE.match(self.path)
            if not match:
                return self._send(404, {"errorMessages": ["null for uri: " + self.path], "errors": {}})
            key, sub, comment_id = match.group(1), match.group(2) or "", match.group(3)
            issue = state.issues.get(key)
            if issue is None:
                return self._send(404, {"errorMessages": ["Issue Does Not Exist"], "errors": {}})
            if sub == "" and method == "GET":
                return self._send(200, issue)
            if sub.startswith("/comment"):
                return self._comment(method, key, comment_id, body)
            if sub == "/transitions":
                return self._transition(method, issue, body)
            return self._send(405, {"errorMessages": [f"{method} not allowed here"], "errors": {}})

    def _comment(self, method: str, key: str, comment_id: str | None, body: Any) -> None:
        state = self.state
        if method == "GET" and comment_id is None:
            found = state.comments[key]
            return self._send(200, {"startAt": 0, "maxResults": 1048576, "total": len(found), "comments": found})
        if not isinstance(body, dict) or not isinstance(body.get("body"), str):
            return self._send(400, {"errorMessages": [], "errors": {"comment": "Comment body can not be empty!"}})
        author = person(USER, "Bereitschaft (runbook)", "oncall@provider.example", state.base_url)
        now = "2026-11-25T03:05:00.000+0100"
        if method == "POST" and comment_id is None:
            state.next_comment_id += 1
            cid = str(state.next_comment_id)
            comment = {"self": f"{state.base_url}/rest/api/2/issue/{key}/comment/{cid}", "id": cid,
                       "author": author, "body": body["body"], "updateAuthor": author, "created": now,
                       "updated": now}
            state.comments[key].append(comment)
            return self._send(201, comment)
        if method == "PUT" and comment_id is not None:
            for comment in state.comments[key]:
                if comment["id"] == comment_id:
                    comment.update(body=body["body"], updated="2026-11-25T03:20:00.000+0100")
                    return self._send(200, comment)
            return self._send(404, {"errorMessages": [f"Can not find a comment for the id: {comment_id}."],
                                    "errors": {}})
        return self._send(405, {"errorMessages": [f"{method} not allowed here"], "errors": {}})

    def _transition(self, method: str, issue: dict[str, Any], body: Any) -> None:
        status = issue["fields"]["status"]["id"]
        available = WORKFLOW[status]
        if method == "GET":
            return self._send(200, {"expand": "transitions", "transitions": [
                {"id": tid, "name": name, "opsbarSequence": 10 * (i + 1), "hasScreen": False,
                 "to": {"self": f"{self.state.base_url}/rest/api/2/status/{to}", **STATUSES[to]}}
                for i, (tid, name, to) in enumerate(available)]})
        wanted = (body or {}).get("transition", {}).get("id") if isinstance(body, dict) else None
        for tid, _, to in available:
            if tid == wanted:
                issue["fields"]["status"] = {"self": f"{self.state.base_url}/rest/api/2/status/{to}", **STATUSES[to]}
                return self._send(204)
        return self._send(400, {"errorMessages": [
            f"It seems that you have tried to perform a workflow operation ({wanted}) that is not valid for the "
            f"current state of this issue ({issue['key']})."], "errors": {}})
