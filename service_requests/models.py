"""The service-request tables: departments and services (the catalogue as stored),
requests, their contacts, their append-only history, and the notification outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, composite, mapped_column

from core.catalogue_file import ServiceLevel
from core.database import Base
from core.states import MAX_DESCRIPTION, OPEN_STATES, RESPONSE_METHODS, STATES
from service_requests import rules
from service_requests.references import show_short_reference


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Department(Base):
    __tablename__ = "department"
    __table_args__ = (UniqueConstraint("city", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(Text)
    supervisor_email: Mapped[str | None] = mapped_column(Text)


class ServiceRecord(Base):
    """A service of the catalogue as stored (and edited on the admin page).

    Its attributes have the names of the fields of :class:`core.catalogue_file.Service`
    (:mod:`service_requests.catalogue_db` maps one to the other by name); some columns keep
    the older names they were created with (``group_name``, ``department_code``,
    ``contact_policy``, ``location_policy``, the two of the service level), which SQL
    written by hand uses.
    """

    __tablename__ = "service"
    __table_args__ = (
        UniqueConstraint("city", "code"),
        CheckConstraint("contact_policy IN ('ask', 'require', 'never')", name="contact_policy_known"),
        CheckConstraint("location_policy IN ('required', 'optional', 'none')", name="location_policy_known"),
        CheckConstraint("(sla_hours IS NULL) <> (sla_business_days IS NULL)", name="one_service_level"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    group: Mapped[str] = mapped_column("group_name", Text, default="")
    keywords: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    department: Mapped[str] = mapped_column("department_code", String(32))
    default_assignee: Mapped[str | None] = mapped_column(Text)
    sla_hours: Mapped[int | None] = mapped_column(Integer)
    sla_business_days: Mapped[int | None] = mapped_column(Integer)
    service_level: Mapped[ServiceLevel] = composite("sla_hours", "sla_business_days")
    contact: Mapped[str] = mapped_column("contact_policy", String(16))
    location: Mapped[str] = mapped_column("location_policy", String(16))
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    source_name: Mapped[str | None] = mapped_column(Text)
    public_photos: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))  # 0019
    # The service's words in other languages, by language code (core.catalogue_file.parse_translations; migration 0022).
    translations: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Set when the admin page changes the service: syncing the city file leaves it alone then.
    edited_by: Mapped[str | None] = mapped_column(Text)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ServiceRequest(Base):
    """A request: a point (when it has one), a service, a department, a state."""

    __tablename__ = "service_request"
    __table_args__ = (
        CheckConstraint(_in("status", STATES), name="status_known"),
        # No check on channel: each city has its own channels (core/channels.py; migration 0014 dropped it).
        CheckConstraint(_in("response_method", RESPONSE_METHODS), name="response_method_known"),
        CheckConstraint(f"char_length(description) <= {MAX_DESCRIPTION}", name="description_length"),
        CheckConstraint(
            "location_quality IN ('address', 'point', 'general', 'none', 'source', 'placeholder', 'relocated')",
            name="location_quality_known",
        ),
        UniqueConstraint("public_ref"),
        # The short reference read over the phone (migration 0018): unique per city.
        Index("service_request_short_ref", "city", "short_ref", unique=True),
        Index(
            "service_request_source", "city", "source_id", unique=True, postgresql_where=text("source_id IS NOT NULL")
        ),
        # Keys are the session's or the API client's own (migration 0015): one per (scope, key).
        Index(
            "service_request_idempotency",
            "city",
            "idempotency_scope",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
        CheckConstraint("idempotency_key IS NULL OR idempotency_scope IS NOT NULL", name="idempotency_key_scoped"),
        Index("service_request_geom_idx", "geom", postgresql_using="gist"),
        Index("service_request_open_service", "city", "service_code", "requested_at", postgresql_where=text("is_open")),
        # Reports (migration 0009): index-only scans read what a report needs and no more.
        Index(
            "service_request_report",
            "city",
            "requested_at",
            postgresql_include=[
                "in_jurisdiction",
                "is_open",
                "status",
                "closed_at",
                "due_at",
                "duplicate_of",
                "service_code",
                "department_code",
                "ward_key",
                "district_key",
                "channel",
            ],
        ),
        # Medians of days to close (migration 0010): the closed requests in that order.
        Index(
            "service_request_close_days",
            "city",
            text(f"({rules.days_to_close(None)})"),
            postgresql_include=[
                "in_jurisdiction",
                "status",
                "duplicate_of",
                "service_code",
                "department_code",
                "ward_key",
                "district_key",
                "channel",
                "requested_at",
                "closed_at",
            ],
            postgresql_where=text(f"{rules.closed(None)} AND closed_at IS NOT NULL"),
        ),
        # The public map (migration 0021): the requests closed in its last days, by their closing time.
        Index(
            "service_request_closed_at",
            "city",
            "closed_at",
            postgresql_where=text("NOT is_open AND closed_at IS NOT NULL"),
        ),
        Index("service_request_ward", "city", "ward_key"),
        Index("service_request_district", "city", "district_key"),
        Index("service_request_due", "city", "due_at", postgresql_where=text("is_open")),
        # Ward and district maps (migration 0006): counts by area from the index alone.
        Index(
            "service_request_mapped_areas",
            "city",
            "ward_key",
            "district_key",
            postgresql_include=["is_open"],
            postgresql_where=text(rules.mapped(None)),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    city: Mapped[str] = mapped_column(String(64))
    public_ref: Mapped[str] = mapped_column(String(40))
    # 10 characters of Crockford base32, 50 random bits (service_requests/references.py, migration 0018).
    short_ref: Mapped[str] = mapped_column(String(10))
    service_code: Mapped[str] = mapped_column(String(64))
    service_name: Mapped[str] = mapped_column(Text)
    department_code: Mapped[str | None] = mapped_column(String(32))
    assignee: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[str | None] = mapped_column(Text)  # a name of the department's priorities (migration 0016)
    status: Mapped[str] = mapped_column(String(32))
    is_open: Mapped[bool] = mapped_column(Boolean, Computed(_in("status", OPEN_STATES), persisted=True))
    channel: Mapped[str] = mapped_column(String(32))
    response_method: Mapped[str] = mapped_column(String(16), default="none")
    # The language the request was filed in ("es"): its requester's e-mails are written in it (migration 0022).
    language: Mapped[str | None] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    address: Mapped[str | None] = mapped_column(Text)
    address_id: Mapped[str | None] = mapped_column(String(64))
    zipcode: Mapped[str | None] = mapped_column(String(5))
    location_note: Mapped[str | None] = mapped_column(Text)
    # The address as typed when it did not match and a point was picked instead (migration 0012):
    # private, for staff with requests.contact; ``address`` then holds the point's public place.
    typed_address: Mapped[str | None] = mapped_column(Text)
    location_quality: Mapped[str] = mapped_column(String(16))
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    in_jurisdiction: Mapped[bool | None] = mapped_column(Boolean)
    agency_key: Mapped[str | None] = mapped_column(Text)
    ward_key: Mapped[str | None] = mapped_column(Text)
    district_key: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    service_level: Mapped[str | None] = mapped_column(Text)  # as promised at creation, e.g. "48 hours"
    # Where due_at came from (migration 0013): 'source' (the city's own date in its history),
    # 'catalogue' (the service level), NULL without a due date.
    due_source: Mapped[str | None] = mapped_column(String(16))
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalation_ack_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # migration 0017
    escalation_ack_by: Mapped[str | None] = mapped_column(Text)
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("service_request.id"))
    media_url: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16), default="intake")
    source_id: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(Text)
    # Whose key it is: "web:<session scope>" or "open311:<client id>" (migration 0015).
    idempotency_scope: Mapped[str | None] = mapped_column(Text)
    # A SHA-256 of what the keyed submission asked for: the same key with another body is refused (0024).
    idempotency_fingerprint: Mapped[str | None] = mapped_column(String(64))
    # The description and location note are the requester's own words (names, phone numbers
    # happen): only roles with requests.contact see them, unless staff marked them public (0015).
    details_public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))

    @property
    def short_ref_shown(self) -> str:
        """The short reference as written for people, ``K7M3Q-X9TBA``."""
        return show_short_reference(self.short_ref)


class RequestContact(Base):
    """Who reported: personal data, kept apart from the request and never shown publicly."""

    __tablename__ = "request_contact"
    # Caller history (migration 0018): earlier requests of the same phone (its digits) or e-mail (lowercased).
    __table_args__ = (
        Index(
            "request_contact_phone_digits",
            text("regexp_replace(phone, '[^0-9]', '', 'g')"),
            postgresql_where=text("phone IS NOT NULL"),
        ),
        Index("request_contact_email_lower", text("lower(email)"), postgresql_where=text("email IS NOT NULL")),
    )

    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id", ondelete="CASCADE"), primary_key=True)
    first_name: Mapped[str | None] = mapped_column(Text)
    last_name: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)


class RequestFollower(Base):
    """A caller added to a request that was already reported: gets its updates like its requester (0018)."""

    __tablename__ = "request_follower"
    __table_args__ = (CheckConstraint(_in("response_method", RESPONSE_METHODS), name="follower_response_method_known"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id", ondelete="CASCADE"), index=True)
    first_name: Mapped[str | None] = mapped_column(Text)
    last_name: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    response_method: Mapped[str] = mapped_column(String(16), default="none")
    channel: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    actor: Mapped[str] = mapped_column(Text)


class RequestPhoto(Base):
    """A photo of a request (migration 0019): the file ``stored_name`` in the media folder, re-encoded without
    metadata. Written to disk before this row is committed, so a row never names a missing file."""

    __tablename__ = "request_photo"
    __table_args__ = (
        UniqueConstraint("stored_name"),
        CheckConstraint("origin IN ('resident', 'staff', 'open311')", name="photo_origin_known"),
        CheckConstraint("content_type IN ('image/jpeg', 'image/png', 'image/webp')", name="photo_type_known"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id", ondelete="CASCADE"), index=True)
    stored_name: Mapped[str] = mapped_column(String(80))
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    added_by: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(16))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    hidden_by: Mapped[str | None] = mapped_column(Text)
    hidden_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RequestEvent(Base):
    """One change of a request: append-only (a trigger refuses updates and deletes)."""

    __tablename__ = "request_event"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class Notification(Base):
    """The outbox: a message to a requester or a supervisor, kept until it is delivered."""

    __tablename__ = "notification"
    __table_args__ = (Index("notification_pending", "next_attempt_at", postgresql_where=text("sent_at IS NULL")),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("service_request.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # A message to a subscriber (migration 0020): sent with its unsubscribe link, dropped once unsubscribed.
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscription.id", ondelete="CASCADE"), index=True)


class Subscription(Base):
    """An e-mail address following a request, or alerted of requests in an area (migration 0020).

    Pending until its confirmation link is used (``confirm_hash`` is the SHA-256 of that
    single-use token); only then is anything but the confirmation sent to the address. The
    e-mail is personal data: never shown publicly, staff see counts.
    """

    __tablename__ = "subscription"
    __table_args__ = (
        CheckConstraint("kind IN ('request', 'ward', 'near')", name="subscription_kind_known"),
        CheckConstraint(
            "(kind = 'request') = (request_id IS NOT NULL)"
            " AND (kind = 'ward') = (ward_key IS NOT NULL)"
            " AND (kind = 'near') = (geom IS NOT NULL AND radius_m IS NOT NULL)",
            name="subscription_target_matches_kind",
        ),
        Index("subscription_confirm", "confirm_hash", unique=True, postgresql_where=text("confirm_hash IS NOT NULL")),
        Index("subscription_unsubscribe", "unsubscribe_token", unique=True),
        Index("subscription_request", "request_id", postgresql_where=text("request_id IS NOT NULL")),
        Index("subscription_city_kind", "city", "kind"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    city: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    #: what is followed, in words for the e-mails ("request K7M3Q-X9TBA", "Council District 13")
    target: Mapped[str] = mapped_column(Text)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("service_request.id", ondelete="CASCADE"))
    ward_key: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    radius_m: Mapped[int | None] = mapped_column(Integer)
    #: area alerts: also the public updates of the area's requests, not only new ones
    updates: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    email: Mapped[str] = mapped_column(Text)
    #: the language of the page it was made from ("es"): its e-mails are written in it; NULL (made
    #: before migration 0027) for the city's default language
    language: Mapped[str | None] = mapped_column(String(16))
    confirm_hash: Mapped[str | None] = mapped_column(String(64))
    # Not hashed: it only ends this subscription, and every later e-mail must carry it.
    unsubscribe_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: area alerts: the last request (id) and public event (id) already sent
    last_request_id: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
