"""What an unattended sweep tells the on-call engineer: changes, not states.

``runbook sweep --alert`` compares each host's and check's status with the previous alerting
sweep of the same inventory and customer, and says what changed: a new problem (a check going
WARNING or CRITICAL, a host becoming unreachable), a problem getting better or worse, and a
recovery (back to OK). Nothing changed: nothing is said. A problem that persists is announced
again at most every ``alert_repeat``. A check that changes more than ``alert_flap_changes``
times within ``alert_flap_window`` is announced once as flapping, and once more when it has
settled, instead of a storm of messages.

The state is one JSON file per inventory and customer under ``<reports>/state/alerts/``,
replaced atomically (written aside, fsynced, renamed) only after a sweep has finished and its
messages went out. A sweep that is killed or interrupted changes nothing; two sweeps that
overlap take turns on a file lock. The host vars (defaults, per role, per host):

| var | default | meaning |
| --- | --- | --- |
| ``alert_repeat`` | 4h | announce a persisting problem again after this long |
| ``alert_flap_changes`` | 4 | more status changes than this within the window is flapping |
| ``alert_flap_window`` | 1h | |
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from runbook.errors import ConfigError
from runbook.hostvars import HostVar, HostVars, Located
from runbook.sweeps.history import REACHABILITY, CheckPoint
from runbook.journal import iso, parse_ts

STATE_VERSION = 1
PROBLEMS = ("WARNING", "CRITICAL")


@dataclass(frozen=True)
class AlertPolicy:
    """How often to repeat and when a check counts as flapping (host vars alert_*)."""

    repeat: timedelta = timedelta(hours=4)
    flap_changes: int = 4
    flap_window: timedelta = timedelta(hours=1)

    @classmethod
    def from_vars(cls, vars: Mapping[str, Any]) -> AlertPolicy:
        """The policy of one host from its vars; ConfigError naming the var's file and line."""
        vars = HostVars.over(vars)
        return cls(repeat=vars.read(ALERT_REPEAT), flap_changes=vars.read(ALERT_FLAP_CHANGES),
                   flap_window=vars.read(ALERT_FLAP_WINDOW))


def _period(at: Located, vars: HostVars) -> timedelta:
    return timedelta(seconds=at.duration())


ALERT_REPEAT: HostVar[timedelta] = HostVar("alert_repeat", "a duration like 4h", "4h", __name__, _period)
ALERT_FLAP_CHANGES: HostVar[int] = HostVar("alert_flap_changes", "a whole number >= 1", 4, __name__,
                                           lambda at, vars: at.count(1))
ALERT_FLAP_WINDOW: HostVar[timedelta] = HostVar("alert_flap_window", "a duration like 1h", "1h", __name__, _period)
#: what ``runbook sweep --alert`` reads of each host
ALERT_VARS: tuple[HostVar[Any], ...] = (ALERT_REPEAT, ALERT_FLAP_CHANGES, ALERT_FLAP_WINDOW)


@dataclass(frozen=True)
class ItemState:
    """What the last alerting sweep knew of one host's check (times ISO 8601, UTC)."""

    status: str
    since: str                      # when it entered this status
    announced: str | None           # when this status was last announced (None: never)
    changes: tuple[str, ...] = ()   # recent status changes, for flapping
    flapping: bool = False
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "changes": list(self.changes)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ItemState:
        return cls(status=str(data["status"]), since=str(data["since"]), announced=data.get("announced"),
                   changes=tuple(data.get("changes") or ()), flapping=bool(data.get("flapping")),
                   message=str(data.get("message", "")))


@dataclass(frozen=True)
class Alert:
    """One message to send.

    kind: "problem" (new), "worse" / "better" (still a problem, other status), "repeat"
    (persisting), "recovery" (back to OK), "flapping", "settled" (no longer flapping).
    """

    kind: str
    host: str
    customer: str
    check: str
    status: str
    previous: str | None
    since: str
    message: str

    @property
    def key(self) -> str:
        return item_key(self.host, self.check)


def item_key(host: str, check: str) -> str:
    return f"{host}|{check}"


def is_problem(check: str, status: str) -> bool:
    """WARNING and CRITICAL are problems; for reachability any status but OK is one."""
    return status in PROBLEMS or (check == REACHABILITY and status != "OK")


def decide(previous: Mapping[str, ItemState], points: Sequence[CheckPoint], policies: Mapping[str, AlertPolicy],
           now: datetime) -> tuple[list[Alert], dict[str, ItemState]]:
    """The alerts for this sweep's ``points`` and the state after them.

    Hosts not in this sweep keep their state. A host that was not reached keeps its checks'
    state (nothing is known of its disks); a check that is UNKNOWN keeps its state too (a
    failed probe proves no recovery). A check gone from a reached host (a mount removed) is
    forgotten without a message.
    """
    state = dict(previous)
    reached = {p.host for p in points if p.check == REACHABILITY and p.status == "OK"}
    seen = {item_key(p.host, p.check) for p in points}
    for key in list(state):
        host = key.partition("|")[0]
        if host in reached and key not in seen:
            del state[key]
    alerts: list[Alert] = []
    stamp = iso(now)
    for p in points:
        if p.status == "UNKNOWN" and p.check != REACHABILITY:
            continue
        policy = policies.get(p.host, AlertPolicy())
        alert, state[item_key(p.host, p.check)] = _step(previous.get(item_key(p.host, p.check)), p, policy, now, stamp)
        if alert is not None:
            alerts.append(alert)
    return alerts, state


def _step(before: ItemState | None, p: CheckPoint, policy: AlertPolicy, now: datetime,
          stamp: str) -> tuple[Alert | None, ItemState]:
    def alert(kind: str, since: str) -> Alert:
        return Alert(kind, p.host, p.customer, p.check, p.status, before.status if before else None, since, p.message)

    if before is None:
        after = ItemState(p.status, stamp, None, message=p.message)
        if is_problem(p.check, p.status):
            return alert("problem", stamp), replace(after, announced=stamp)
        return None, after
    changed = before.status != p.status
    window_start = now - policy.flap_window
    changes = tuple(c for c in before.changes if parse_ts(c) >= window_start) + ((stamp,) if changed else ())
    after = ItemState(p.status, stamp if changed else before.since, before.announced, changes, before.flapping,
                      p.message)
    flapping = len(changes) > policy.flap_changes
    if flapping and not before.flapping:
        return alert("flapping", after.since), replace(after, flapping=True, announced=stamp)
    if flapping:
        return None, after
    if before.flapping:  # settled: say where it settled
        return alert("settled", after.since), replace(after, flapping=False, announced=stamp)
    was, now_problem = is_problem(p.check, before.status), is_problem(p.check, p.status)
    kind = None
    if changed and now_problem and not was:
        kind = "problem"
    elif changed and was and p.status == "OK":
        kind = "recovery"
    elif changed and was and now_problem:
        kind = "worse" if _rank(p.status) > _rank(before.status) else "better"
    elif (not changed and now_problem and
          (before.announced is None or now - parse_ts(before.announced) >= policy.repeat)):
        kind = "repeat"
    if kind is None:
        return None, after
    return alert(kind, after.since), replace(after, announced=stamp)


def _rank(status: str) -> int:
    return {"OK": 0, "UNKNOWN": 1, "WARNING": 2, "CRITICAL": 3}.get(status, 1)


# -- the state file ----------------------------------------------------------------------------

def state_path(state_dir: Path, inventory_files: Sequence[Path], customer: str) -> Path:
    """``<state_dir>/<customer>-<digest of the inventory's paths>.json``."""
    names = "\0".join(sorted(str(Path(p).resolve()) for p in inventory_files))
    return state_dir / f"{customer}-{hashlib.sha256(names.encode()).hexdigest()[:12]}.json"


def read_state(path: Path) -> tuple[dict[str, ItemState], str | None]:
    """The items and the last alerting sweep's run id; nothing for a missing file. A damaged
    file is a ConfigError: silently starting afresh would announce every old problem again."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the alert state: {exc}; move it away to start afresh",
                          file=str(path)) from None
    try:
        return ({k: ItemState.from_json(v) for k, v in data["items"].items()}, data.get("last_run"))
    except (KeyError, TypeError, AttributeError, ValueError):
        raise ConfigError("not an alert state file; move it away to start afresh", file=str(path)) from None


def write_state(path: Path, items: Mapping[str, ItemState], *, run_id: str, customer: str,
                inventory_files: Sequence[Path], now: datetime) -> None:
    """Replace the state file atomically: a crash leaves the old one or the new one, whole."""
    data = {"version": STATE_VERSION, "customer": customer, "inventory": [str(p) for p in inventory_files],
            "last_run": run_id, "updated": iso(now),
            "items": {k: v.to_json() for k, v in sorted(items.items())}}
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, ensure_ascii=False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power loss
    finally:
        os.close(directory)


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the state file's lock: overlapping cron sweeps take turns."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
