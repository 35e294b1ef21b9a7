"""The simulator's state: one JSON document in memory, written to a file after each change."""

from __future__ import annotations

import copy
import json
import os
import threading
from pathlib import Path
from typing import Any

from zoomsim.seed import seed_state


class State:
    """Account, users, meetings and tokens behind one lock; survives a restart via `path`."""

    def __init__(self, path: Path | None, seed: str = "university", users: int = 56) -> None:
        self.path = path
        self.seed = seed
        self.users = users
        self.lock = threading.RLock()
        if path and path.exists():
            self.data = json.loads(path.read_text())
        else:
            self.data = self._seeded()
            self.save()

    def _seeded(self) -> dict[str, Any]:
        data = seed_state(total_users=self.users)
        if self.seed == "empty":
            data["users"], data["meetings"] = {}, {}
        return data

    def reset(self) -> None:
        with self.lock:
            self.data = self._seeded()
            self.save()

    def save(self) -> None:
        """Write the state atomically, so a crash never leaves half a file."""
        if not self.path:
            return
        with self.lock:
            temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(self.data, separators=(",", ":")))
            os.replace(temporary, self.path)

    def find_user(self, user_id: str) -> dict[str, Any] | None:
        """A user by id or e-mail (case-insensitive), as Zoom accepts either."""
        users = self.data["users"]
        if user_id in users:
            return users[user_id]
        wanted = user_id.lower()
        for record in users.values():
            if record["user"]["email"].lower() == wanted:
                return record
        return None

    def snapshot(self, value: Any) -> Any:
        with self.lock:
            return copy.deepcopy(value)
