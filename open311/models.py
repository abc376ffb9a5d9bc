"""The Open311 tables: API clients, the updates clients posted, and rate-limit windows.

Which client filed a request is kept in the request's append-only history (the ``created``
event's ``data.client`` is ``open311:<client id>``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base
from service_requests.models import RequestEvent, ServiceRequest

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
    # May its servicerequestupdates change a request's status (else: comments only)?
    may_change_status: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ClientUpdate(Base):
    """An update a client POSTed to servicerequestupdates, kept for idempotency on the client's ``update_id``.

    ``fingerprint`` is a hash of what was sent, so that the same ``update_id`` with other
    contents is refused rather than answered with the first update. The update itself is
    the request's history event ``event_id`` (its ``data.open311_update`` is this row's id).
    ``author`` holds the name and e-mail the client gave for its user: never published.
    """

    __tablename__ = "open311_update"
    __table_args__ = (UniqueConstraint("client_id", "update_id", name="open311_update_client_update_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("open311_client.id"))
    update_id: Mapped[str] = mapped_column(String(150))
    fingerprint: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("request_event.id"))
    author: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# GET requests filters on updated_after / updated_before (the sync clients' query).
Index("service_request_updated", ServiceRequest.__table__.c.city, ServiceRequest.__table__.c.updated_at)
# GET servicerequestupdates reads the public history in a window of time.
Index("request_event_public_at", RequestEvent.__table__.c.at, postgresql_where=RequestEvent.__table__.c.public)

__all__ = ["ApiClient", "ClientUpdate", "DEFAULT_PER_MINUTE"]
