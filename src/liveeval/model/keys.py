"""API keys and what their roles allow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    INGEST = "ingest"  # send spans and signals
    READ = "read"  # query
    ADMIN = "admin"  # both, and manage the project

    def allows(self, needed: Role) -> bool:
        return self is Role.ADMIN or self is needed


@dataclass(frozen=True, slots=True)
class ApiKey:
    key_id: str
    project: str
    role: Role
    name: str | None
    created_at: datetime
    revoked_at: datetime | None = None
