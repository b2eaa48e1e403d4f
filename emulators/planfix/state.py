"""The emulated Planfix account: everything the REST API and the scenarios read and write.

One re-entrant lock guards it all; every HTTP handler and control action holds it for its whole
run, so concurrent relay workers see the same serialised behaviour a single account gives.
Entities are plain dicts (easy to dump at `/_emulator/state`); `views.py` turns them into the
wire shapes and `values.py` handles custom-field values.
"""
from __future__ import annotations

import itertools
import threading
from collections import Counter
from datetime import datetime
from typing import Any

from .clock import Clock, SystemClock
from .dates import Dates
from .errors import ApiError, bad_value
from .knobs import Knobs

FLOORS = {"task": 1001, "comment": 5001, "contact": 101, "file": 7001, "entry": 101, "checklist": 9001}
"""First ids when a seed has none of a kind; arbitrary but far apart so mixed-up ids fail loudly."""
OBJECT_TYPES = {"task": 0, "contact": 1, "directory": 2, "project": 3, "datatag": 4, "main": 5, "user": 6}


class PlanfixState:
    """Account data plus the counters and knobs the control endpoints expose."""

    def __init__(self, seed: dict[str, Any], clock: Clock | None = None, token: str | None = None,
                 knobs: Knobs | None = None, hook_base: str | None = None) -> None:
        self.lock = threading.RLock()
        self.clock: Clock = clock or SystemClock()
        self.knobs = knobs or Knobs()
        self.seed = seed
        self.extra_token = token
        self.hook_base = hook_base
        self.requests: Counter[str] = Counter()
        self.initial_knobs = self.knobs
        self.scenarios: Any = None  # ScenarioEngine, attached by create_app
        self.dispatcher: Any = None  # Dispatcher, attached by create_app
        self.load()

    def close(self) -> None:
        """Stop the scenario sender thread (tests create many apps)."""
        if self.dispatcher is not None:
            self.dispatcher.close()

    # -- lifecycle -------------------------------------------------------------------------
    def load(self) -> None:
        """(Re)build the account from the seed; used at start and by `/_emulator/reset`."""
        from .seed import apply_seed

        with self.lock:
            account = self.seed.get("account") or {}
            self.account_name = str(account.get("name", "demo"))
            self.dates = Dates(float(account.get("utc_offset_hours", 0)))
            self.tokens: dict[str, dict[str, Any]] = {}
            self.users: dict[int, dict[str, Any]] = {}
            self.groups: dict[int, dict[str, Any]] = {}
            self.contacts: dict[int, dict[str, Any]] = {}
            self.processes: dict[int, dict[str, Any]] = {}
            self.statuses: dict[int, dict[str, Any]] = {}
            self.fields: dict[int, dict[str, Any]] = {}
            self.directories: dict[int, dict[str, Any]] = {}
            self.data_tags: dict[int, dict[str, Any]] = {}
            self.projects: dict[int, dict[str, Any]] = {}
            self.tasks: dict[int, dict[str, Any]] = {}
            self.comments: dict[int, dict[str, Any]] = {}
            self.entries: dict[int, dict[str, Any]] = {}
            self.files: dict[int, dict[str, Any]] = {}
            self.deferred: list[dict[str, Any]] = []
            self.scenario_rules: list[dict[str, Any]] = []
            self.requests.clear()
            self._ids = {name: itertools.count(start) for name, start in FLOORS.items()}
            apply_seed(self, self.seed)
            if self.extra_token:
                robot = min(self.users) if self.users else 1
                self.tokens[self.extra_token] = {"user": f"user:{robot}", "scopes": None}
            self._ids = {name: itertools.count(start) for name, start in self._id_starts().items()}

    def _id_starts(self) -> dict[str, int]:
        """Counters continue after the highest seeded id (seeds number tasks like real task numbers)."""
        checklist = {i["id"]: i for t in self.tasks.values() for i in t["checklist"]}
        tables = {"task": self.tasks, "comment": self.comments, "contact": self.contacts, "file": self.files,
                  "entry": self.entries, "checklist": checklist}
        return {name: max([FLOORS[name] - 1, *tables[name]]) + 1 for name in FLOORS}

    def next_id(self, kind: str) -> int:
        return next(self._ids[kind])

    def now(self) -> datetime:
        return self.dates.from_ts(self.clock.now())

    # -- people ----------------------------------------------------------------------------
    def person(self, ref: str) -> dict[str, Any] | None:
        prefix, _, number = str(ref).partition(":")
        if not number.isdigit():
            return None
        table = {"user": self.users, "contact": self.contacts, "group": self.groups}.get(prefix)
        return table.get(int(number)) if table is not None else None

    def person_name(self, ref: str) -> str | None:
        found = self.person(ref)
        if found is None:
            return None
        if str(ref).startswith("group:"):
            return str(found["name"])
        return " ".join(p for p in (found.get("lastname"), found.get("name")) if p) or str(found.get("name", ""))

    def person_block(self, ref: str | None) -> dict[str, Any] | None:
        return {"id": ref, "name": self.person_name(ref)} if ref else None

    def people_block(self, people: dict[str, list[Any]]) -> dict[str, Any]:
        return {"users": [{"id": r, "name": self.person_name(r)} for r in people.get("users", [])],
                "groups": [{"id": g, "name": self.person_name(f"group:{g}")} for g in people.get("groups", [])]}

    # -- lookups used by custom-field values (values.Lookup) ------------------------------
    def task_name(self, task_id: int) -> str | None:
        task = self.tasks.get(int(task_id))
        return task["name"] if task else None

    def project_name(self, project_id: int) -> str | None:
        project = self.projects.get(int(project_id))
        return project["name"] if project else None

    def directory_value(self, directory_id: int | None, key: int) -> str | None:
        if directory_id in self.directories:
            directories = [self.directories[directory_id]]
        else:
            directories = list(self.directories.values())
        for directory in directories:
            if int(key) in directory["entries"]:
                return str(directory["entries"][int(key)])
        return None

    def file_exists(self, file_id: int) -> bool:
        return int(file_id) in self.files

    # -- lookups that raise the wire errors ------------------------------------------------
    def task(self, task_id: Any, status: int = 400, for_update: bool = False) -> dict[str, Any]:
        from .errors import task_not_found

        try:
            task = self.tasks.get(int(task_id))
        except (TypeError, ValueError):
            task = None
        if task is None or task["type"] == "Checkmark":
            raise task_not_found(task_id, status, for_update)
        return task

    def contact_id(self, raw: Any) -> int | None:
        text = str(raw).strip()
        if text.startswith("contact:"):
            text = text[len("contact:"):]
        return int(text) if text.isdigit() else None

    def status_for(self, status_id: Any, process_id: int | None) -> dict[str, Any]:
        """A status that belongs to the task's process, else the spec's code-41 error."""
        try:
            status = self.statuses.get(int(status_id))
        except (TypeError, ValueError):
            status = None
        process = self.processes.get(process_id) if process_id is not None else None
        if status is None or (process is not None and status["id"] not in process["statuses"]):
            raise bad_value(f"Status not find by id {status_id}")
        return status

    def default_process(self) -> int | None:
        for pid, process in self.processes.items():
            if process.get("default"):
                return pid
        return min(self.processes) if self.processes else None

    def object_fields(self, kind: str) -> dict[int, dict[str, Any]]:
        code = OBJECT_TYPES[kind]
        return {fid: f for fid, f in self.fields.items() if f["objectType"] == code}

    def field_of(self, kind: str, field_id: Any) -> dict[str, Any]:
        try:
            field = self.fields.get(int(field_id))
        except (TypeError, ValueError):
            field = None
        if field is None or field["objectType"] != OBJECT_TYPES[kind]:
            raise ApiError(400, 41, f"Custom field not found by id {field_id}")
        return field

    # -- counters & dumps ------------------------------------------------------------------
    def count(self, key: str) -> None:
        with self.lock:
            self.requests[key] += 1

    def dump(self) -> dict[str, Any]:
        from .views import dump_state

        with self.lock:
            return dump_state(self)
