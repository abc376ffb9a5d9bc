"""The Open311 tables: API clients and rate-limit windows.

Which client filed a request is kept in the request's append-only history (the ``created``
event's ``data.client`` is ``open311:<client id>``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base
from service_requests.models import ServiceRequest

DEFAULT_PER_MINUTE = 600


class ApiClient(Base):
    """An application allowed to file requests: its key is stored only as a SHA-256 hash.

    Keys are 256 random bits, so a plain hash is as strong as a slow one; the key itself
    is shown once, when it is issued. A revoked client keeps its row (and its history).
    """

    __tablename__ = "open311_client"
    __table_args__ = (CheckConstraint("per_minute > 0", name="per_minute_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(Text)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(8))  # the key's first characters, to tell keys apart
    per_minute: Mapped[int] = mapped_column(Integer, default=DEFAULT_PER_MINUTE)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# GET requests filters on updated_after / updated_before (the sync clients' query).
Index("service_request_updated", ServiceRequest.__table__.c.city, ServiceRequest.__table__.c.updated_at)

__all__ = ["ApiClient", "DEFAULT_PER_MINUTE"]
