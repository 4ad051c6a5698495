"""Every table of Moraspår.

No `from __future__ import annotations` here: SQLModel resolves relationship
annotations at class creation. Choices are stored as short strings; the
allowed values live in the StrEnum classes beside the tables and are checked
by the forms and services (SQLModel tables do not validate on construction).
Status columns are also checked by the database (`one_of`), so that no code
path, import or hand-written SQL can store a status nothing knows how to show.
"""

import enum
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import load_only
from sqlmodel import Field, SQLModel

# Named constraints, so that SQLite batch migrations can find and drop them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def load_columns(*columns: Any) -> Any:
    """A query option that loads only these columns of a model (the rest load
    when first read): `load_only`, which SQLModel's typing refuses, since it
    types the columns as plain values."""
    return load_only(*columns)


def utcnow() -> datetime:
    return datetime.now(UTC)


def edit_version() -> Any:
    """The version of an editable record, raised by one on every saved edit; an
    edit form carries the version it read, so a stale save is refused."""
    return Field(default=1, sa_column_kwargs={"server_default": sa.text("1")})


class OrgKind(enum.StrEnum):
    SCHOOL = "school"
    COMPANY = "company"
    MUNICIPALITY = "municipality"


class Role(enum.StrEnum):
    TEACHER = "teacher"
    COMPANY = "company"
    COUNCIL = "council"
    ADMIN = "admin"


class Level(enum.StrEnum):
    GRUNDSKOLA = "grundskola"  # grades 7–9
    GYMNASIUM = "gymnasium"
    KOMVUX = "komvux"
    YRKESHOGSKOLA = "yrkeshogskola"


class PostingKind(enum.StrEnum):
    APL = "apl"
    PRAO = "prao"
    STUDY_VISIT = "study_visit"
    GUEST_LECTURE = "guest_lecture"
    PROJECT = "project"


class PostingStatus(enum.StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


class Horizon(enum.StrEnum):
    NOW = "now"
    YEARS_1_3 = "1-3"
    YEARS_3_5 = "3-5"


class ProposalStatus(enum.StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    DECLINED = "declined"
    DEFERRED = "deferred"
    BOOKED = "booked"
    WITHDRAWN = "withdrawn"


class ProposalOrigin(enum.StrEnum):
    RUN = "run"  # proposed by a council's match run
    REQUEST = "request"  # asked for by a teacher: the school has confirmed
    OFFER = "offer"  # offered by a company: the company has confirmed


class DeclineReason(enum.StrEnum):
    """Why a school or a company says no to a request, an offer or a proposal
    (stored in MatchProposal.decline_reason, as the council's reasons are)."""

    NO_CAPACITY = "no_capacity"
    NO_SUPERVISOR = "no_supervisor"
    WRONG_PERIOD = "wrong_period"
    TOO_FAR = "too_far"
    NOT_SUITABLE = "not_suitable"
    OTHER = "other"


class LinkPurpose(enum.StrEnum):
    ANSWER_PROPOSAL = "answer_proposal"  # a company confirms or declines
    EVALUATE = "evaluate"  # a company evaluates a booking that has ended


class RunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class BookingStatus(enum.StrEnum):
    ACTIVE = "active"
    ENDED = "ended"  # period over, evaluations requested
    CANCELLED = "cancelled"  # called off before the start
    ABORTED = "aborted"  # called off after the start ("avbruten")


# The statuses whose students hold places: Placement.places_booked is their sum.
BOOKING_HOLDS_PLACES = (BookingStatus.ACTIVE, BookingStatus.ENDED)


class CancelReason(enum.StrEnum):
    SUPERVISOR_UNAVAILABLE = "supervisor_unavailable"
    STUDENTS_UNAVAILABLE = "students_unavailable"
    SCHEDULE = "schedule"
    ILLNESS = "illness"
    OTHER = "other"


class Attendance(enum.StrEnum):
    CAME = "came"
    NO_SHOW = "no_show"


class MeetingStatus(enum.StrEnum):
    PLANNED = "planned"
    HELD = "held"


def one_of(column: str, choices: type[enum.StrEnum]) -> sa.CheckConstraint:
    """A CHECK that column holds one of the values of choices.

    Named after the column, which the naming convention turns into
    ck_<table>_<column>; the migrations spell the same names out.
    """
    values = ", ".join(f"'{choice.value}'" for choice in choices)
    return sa.CheckConstraint(f"{column} IN ({values})", name=column)


class Organisation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20, index=True)
    name: str = Field(max_length=200, index=True)
    org_number: str | None = Field(default=None, max_length=11, unique=True)
    address: str = Field(default="", max_length=200)
    postcode: str = Field(default="", max_length=10)
    locality: str = Field(default="", max_length=100, index=True)
    lat: float | None = None
    lon: float | None = None
    sni_code: str | None = Field(default=None, max_length=10, index=True)
    contact_name: str = Field(default="", max_length=200)
    contact_email: str = Field(default="", max_length=254)
    contact_phone: str = Field(default="", max_length=40)
    website: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=4000)
    approved: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = edit_version()


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    # Stored lower-cased by the services, so unique means case-insensitively unique.
    email: str = Field(max_length=254, unique=True)
    password_hash: str | None = Field(default=None, max_length=200)
    display_name: str = Field(max_length=200)
    role: str = Field(max_length=20, index=True)
    organisation_id: int | None = Field(
        default=None, foreign_key="organisation.id", index=True
    )
    language: str = Field(default="sv", max_length=5)
    active: bool = Field(default=True)
    # Rotated on logout, password change and deactivation: flask-login stores it
    # in the session and remember cookie, so rotating it signs out every copy.
    session_token: str = Field(max_length=64, unique=True)
    # Encrypted under TOTP_KEY (moraspar.auth.totp), never in clear.
    totp_secret: str | None = Field(default=None, max_length=200)
    # Kinds of notice the user does not want by email ({kind: False}); a kind
    # not named is sent. The in-app notification is made either way. JSONB on
    # PostgreSQL: plain json has no equality, and SELECT DISTINCT over users
    # (the council's members of an area) needs one.
    email_notices: dict[str, bool] = Field(
        default_factory=dict,
        sa_type=sa.JSON().with_variant(JSONB(), "postgresql"),
        sa_column_kwargs={"server_default": "{}"},
    )
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None
    anonymised_at: datetime | None = None

    # What flask-login asks of a user object. get_id returns the rotating session
    # token, not the primary key, so that rotating it ends every session.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return self.session_token


class Programme(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="organisation.id", index=True)
    name: str = Field(max_length=200)
    code: str = Field(default="", max_length=20)
    orientation: str = Field(default="", max_length=200)
    level: str = Field(max_length=20)
    description: str = Field(default="", max_length=4000)
    skills: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    places_per_year: int = Field(default=0)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = edit_version()


class Need(SQLModel, table=True):
    """A school's request for placements: group-level facts only, never names."""

    __table_args__ = (
        sa.Index("ix_need_status_kind", "status", "kind"),
        one_of("status", PostingStatus),
    )

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="organisation.id", index=True)
    programme_id: int | None = Field(
        default=None, foreign_key="programme.id", index=True
    )
    kind: str = Field(max_length=20)
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=4000)
    skills: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    students: int = Field(default=1)
    start_date: date | None = None
    end_date: date | None = Field(default=None, index=True)
    locality: str = Field(default="", max_length=100)
    lat: float | None = None
    lon: float | None = None
    max_km: float | None = None
    requirements: str = Field(default="", max_length=2000)
    status: str = Field(default=PostingStatus.OPEN, max_length=20)
    search_text: str = Field(default="", sa_type=sa.Text)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = edit_version()
    closed_at: datetime | None = None


class Placement(SQLModel, table=True):
    """A company's offer of places for students."""

    __table_args__ = (
        sa.Index("ix_placement_status_kind", "status", "kind"),
        # Covers the teacher's search count and ordering (open, not ended,
        # by start date) without reading the wide rows.
        sa.Index(
            "ix_placement_open_period",
            "status",
            "end_date",
            "start_date",
            "company_id",
        ),
        one_of("status", PostingStatus),
    )

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="organisation.id", index=True)
    kind: str = Field(max_length=20)
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=4000)
    tasks: str = Field(default="", max_length=4000)
    skills: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    places: int = Field(default=1)
    places_booked: int = Field(default=0)
    start_date: date | None = None
    end_date: date | None = Field(default=None, index=True)
    locality: str = Field(default="", max_length=100)
    lat: float | None = None
    lon: float | None = None
    supervisor_name: str = Field(default="", max_length=200)
    supervisor_contact: str = Field(default="", max_length=254)
    supervisor_trained: bool = Field(default=False)
    requirements: str = Field(default="", max_length=2000)
    status: str = Field(default=PostingStatus.OPEN, max_length=20)
    search_text: str = Field(default="", sa_type=sa.Text)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = edit_version()
    closed_at: datetime | None = None


class SkillGap(SQLModel, table=True):
    """A company's kompetensbehov: people with these skills it will need."""

    __tablename__ = "skill_gap"
    __table_args__ = (one_of("status", PostingStatus),)

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="organisation.id", index=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=4000)
    skills: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    ssyk_code: str | None = Field(default=None, max_length=4, index=True)
    headcount: int = Field(default=1)
    horizon: str = Field(default=Horizon.NOW, max_length=10)
    status: str = Field(default=PostingStatus.OPEN, max_length=20, index=True)
    search_text: str = Field(default="", sa_type=sa.Text)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = edit_version()
    closed_at: datetime | None = None


class Council(SQLModel, table=True):
    """A kompetensråd or programråd."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    kind: str = Field(default="kompetensrad", max_length=20)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    description: str = Field(default="", max_length=4000)
    # Whether schools and companies created later (by the business office, by a
    # company's own registration or by an import) join this council's area.
    takes_new_organisations: bool = Field(
        default=True, sa_column_kwargs={"server_default": sa.true()}
    )
    created_at: datetime = Field(default_factory=utcnow)


class CouncilMember(SQLModel, table=True):
    __tablename__ = "council_member"
    __table_args__ = (sa.UniqueConstraint("council_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    chair: bool = Field(default=False)


class CouncilOrganisation(SQLModel, table=True):
    """A school or company in a council's area. The council decides on the needs
    of its schools (their proposals, bookings and coverage) and weighs its
    companies' skill gaps against its schools' programmes; members of other
    councils do not see that work."""

    __tablename__ = "council_organisation"
    __table_args__ = (sa.UniqueConstraint("council_id", "organisation_id"),)

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)


class MatchRun(SQLModel, table=True):
    __tablename__ = "match_run"
    __table_args__ = (one_of("status", RunStatus),)

    id: int | None = Field(default=None, primary_key=True)
    # The council whose area the run matched; None: every open need (the CLI).
    council_id: int | None = Field(default=None, foreign_key="council.id", index=True)
    status: str = Field(default=RunStatus.QUEUED, max_length=20)
    progress: int = Field(default=0)
    total: int = Field(default=0)
    error: str = Field(default="", max_length=2000)
    ranker_version: str = Field(default="", max_length=40)
    triggered_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    # The job that runs it: claimed atomically, with a heartbeat a worker
    # renews after every phase; a run whose heartbeat is older than the lease
    # was interrupted and is taken up again (moraspar.jobs.matchruns).
    heartbeat_at: datetime | None = Field(default=None)
    attempts: int = Field(default=0)
    worker: str = Field(default="", max_length=100)


class MatchProposal(SQLModel, table=True):
    """A proposed need ↔ placement pairing and the council's decision on it."""

    __tablename__ = "match_proposal"
    __table_args__ = (
        sa.UniqueConstraint("need_id", "placement_id"),
        sa.Index("ix_match_proposal_status_score", "status", "score"),
        # Covers the review board's count and filter look-ups, which then
        # never read the rows' reasons and score parts.
        sa.Index(
            "ix_match_proposal_status_need_placement",
            "status",
            "need_id",
            "placement_id",
        ),
        one_of("status", ProposalStatus),
        one_of("origin", ProposalOrigin),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int | None = Field(default=None, foreign_key="match_run.id", index=True)
    need_id: int = Field(foreign_key="need.id", index=True)
    placement_id: int = Field(foreign_key="placement.id", index=True)
    score: float = Field(default=0.0)
    parts: dict[str, float] = Field(default_factory=dict, sa_type=sa.JSON)
    reasons: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    students: int = Field(default=0)  # proposed by the allocation; 0 = ranked only
    status: str = Field(default=ProposalStatus.PROPOSED, max_length=20)
    decided_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    decided_at: datetime | None = None
    decline_reason: str = Field(default="", max_length=40)
    comment: str = Field(default="", max_length=2000)
    school_confirmed: bool | None = None
    company_confirmed: bool | None = None
    # Who started it: a match run, a teacher's request or a company's offer
    # (the side that started it has confirmed it by asking).
    origin: str = Field(
        default=ProposalOrigin.RUN,
        max_length=10,
        sa_column_kwargs={"server_default": ProposalOrigin.RUN.value},
    )
    requested_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class KindRoute(SQLModel, table=True):
    """Whether a teacher's request of one kind goes to the council first or
    straight to the company; a kind without a row takes the default
    (moraspar.bookings.requests.DEFAULT_VIA_COUNCIL)."""

    __tablename__ = "kind_route"
    __table_args__ = (one_of("kind", PostingKind),)

    kind: str = Field(primary_key=True, max_length=20)
    via_council: bool = Field(default=False)
    updated_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    updated_at: datetime = Field(default_factory=utcnow)


class ActionLink(SQLModel, table=True):
    """A single-use, expiring link in an email that lets an organisation act
    without signing in. The email carries a signed random token; only its
    SHA-256 is stored, so a copy of the database opens nothing."""

    __tablename__ = "action_link"
    __table_args__ = (one_of("purpose", LinkPurpose),)

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    purpose: str = Field(max_length=30)
    proposal_id: int | None = Field(
        default=None, foreign_key="match_proposal.id", index=True
    )
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    expires_at: datetime
    used_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ProgrammeGapMatch(SQLModel, table=True):
    """How well a programme addresses a company's skill gap (ranked per run)."""

    __tablename__ = "programme_gap_match"
    __table_args__ = (sa.UniqueConstraint("programme_id", "skill_gap_id"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int | None = Field(default=None, foreign_key="match_run.id", index=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    skill_gap_id: int = Field(foreign_key="skill_gap.id", index=True)
    score: float = Field(default=0.0)
    parts: dict[str, float] = Field(default_factory=dict, sa_type=sa.JSON)
    reasons: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=utcnow)


class Booking(SQLModel, table=True):
    __table_args__ = (
        one_of("status", BookingStatus),
        one_of("cancel_reason", CancelReason),
        one_of("attendance", Attendance),
    )

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="match_proposal.id", unique=True)
    need_id: int = Field(foreign_key="need.id", index=True)
    placement_id: int = Field(foreign_key="placement.id", index=True)
    students: int
    start_date: date | None = None
    end_date: date | None = None
    status: str = Field(default=BookingStatus.ACTIVE, max_length=20)
    created_at: datetime = Field(default_factory=utcnow)
    # Called off: by which side, why (a CancelReason and free text), when.
    cancelled_side: str | None = Field(default=None, max_length=10)
    cancel_reason: str | None = Field(default=None, max_length=40)
    cancel_comment: str = Field(
        default="", max_length=500, sa_column_kwargs={"server_default": ""}
    )
    cancelled_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    cancelled_at: datetime | None = None
    # A change of dates asked by one side, waiting for the other's answer.
    proposed_start_date: date | None = None
    proposed_end_date: date | None = None
    change_requested_side: str | None = Field(default=None, max_length=10)
    # Recorded by the school after the start: did the students come?
    attendance: str | None = Field(default=None, max_length=10)
    attendance_recorded_at: datetime | None = None


class Evaluation(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("booking_id", "side"),)

    id: int | None = Field(default=None, primary_key=True)
    booking_id: int = Field(foreign_key="booking.id", index=True)
    side: str = Field(max_length=10)  # school / company
    overall: int
    supervision: int
    preparation: int
    comment: str = Field(default="", max_length=2000)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)


class ReminderSent(SQLModel, table=True):
    """A reminder that has gone out: the unique key is written before the
    notice, so a job that runs twice, or two workers at once, send it once.
    `due_date` is part of the key: a proposal approved again or a booking moved
    to new dates is due a reminder of its own."""

    __tablename__ = "reminder_sent"
    __table_args__ = (sa.UniqueConstraint("kind", "object_id", "side", "due_date"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=30)
    object_id: int = Field(index=True)  # a MatchProposal's or a Booking's id
    side: str = Field(max_length=10)  # school / company
    due_date: date
    sent_at: datetime = Field(default_factory=utcnow)


class Meeting(SQLModel, table=True):
    __table_args__ = (one_of("status", MeetingStatus),)

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", index=True)
    title: str = Field(max_length=200)
    held_on: date
    status: str = Field(default=MeetingStatus.PLANNED, max_length=20)
    notes: str = Field(default="", max_length=8000)
    created_at: datetime = Field(default_factory=utcnow)


class MeetingItem(SQLModel, table=True):
    __tablename__ = "meeting_item"

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    position: int = Field(default=0)
    proposal_id: int | None = Field(default=None, foreign_key="match_proposal.id")
    skill_gap_id: int | None = Field(default=None, foreign_key="skill_gap.id")
    decision: str = Field(default="", max_length=2000)


class Notification(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    kind: str = Field(max_length=40)
    params: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    link: str = Field(default="", max_length=300)
    read_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class JobStatus(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class MailStatus(enum.StrEnum):
    PENDING = "pending"  # waiting, or to be tried again at next_attempt_at
    SENDING = "sending"  # claimed by a worker, not yet handed to the server
    HANDED = "handed"  # the server was given the message; no answer recorded
    SENT = "sent"
    FAILED = "failed"  # refused for good, or given up after every attempt
    UNCERTAIN = "uncertain"  # the worker stopped while HANDED: maybe delivered


class OutboxMessage(SQLModel, table=True):
    """An email to deliver; a request only adds the row, a job sends it."""

    __tablename__ = "outbox_message"
    __table_args__ = (one_of("status", MailStatus),)

    id: int | None = Field(default=None, primary_key=True)
    to_address: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    body_text: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = Field(default=None, index=True)
    attempts: int = Field(default=0)
    last_error: str = Field(default="", max_length=2000)
    status: str = Field(default=MailStatus.PENDING, max_length=20, index=True)
    # The same Message-ID on every attempt, so a receiver can drop a copy.
    message_id: str | None = Field(default=None, max_length=250, unique=True)
    claimed_at: datetime | None = Field(default=None)
    next_attempt_at: datetime | None = Field(default=None)
    # For notices a user can turn off: the address of the page that does it.
    unsubscribe_url: str = Field(default="", max_length=500)


class JobRun(SQLModel, table=True):
    """One run of a scheduled job, or a job that failed for good.

    (name, slot) is unique: a scheduled job writes its slot (the minute it
    was due) before it starts, so two workers never run the same slot."""

    __tablename__ = "job_run"
    __table_args__ = (sa.UniqueConstraint("name", "slot"), one_of("status", JobStatus))

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60, index=True)
    slot: str = Field(max_length=60)
    status: str = Field(default=JobStatus.RUNNING, max_length=20, index=True)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = Field(default=None)
    error: str = Field(default="", max_length=2000)
    worker: str = Field(default="", max_length=100)


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (sa.Index("ix_audit_event_entity", "entity", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")
    action: str = Field(max_length=60)
    entity: str = Field(max_length=40)
    entity_id: int | None = None
    details: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


class RankerWeights(SQLModel, table=True):
    __tablename__ = "ranker_weights"

    id: int | None = Field(default=None, primary_key=True)
    weights: dict[str, float] = Field(default_factory=dict, sa_type=sa.JSON)
    quality_before: float | None = None
    quality_after: float | None = None
    active: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)


class RankingModel(SQLModel, table=True):
    """A fitted matching model, shared by every web process and worker through
    the database: the newest row of the library's file format is served.

    `watermark` is a digest of cheap aggregates of the open postings (counts,
    newest update) that says quickly whether anything changed; `fingerprint` a
    digest of the texts the model was fitted on, so that a change that leaves
    them as they were (a booking) is not refitted."""

    __tablename__ = "ranking_model"

    id: int | None = Field(default=None, primary_key=True)
    format_version: int
    fitted_at: datetime = Field(default_factory=utcnow)
    watermark: str = Field(max_length=64)
    fingerprint: str = Field(max_length=64)
    weights_version: str = Field(default="", max_length=40)
    n_postings: int = Field(default=0)
    model: bytes = Field(sa_type=sa.LargeBinary)
    model_digest: str = Field(max_length=64)
    fit_seconds: float = Field(default=0.0)


class LoginAttempt(SQLModel, table=True):
    """A failed or pending sign-in (or a reset or registration request), counted
    by moraspar.web.ratelimit when no Redis is configured. Keys are HMACs
    ("pair:…", "ip:…"), never an address in clear; rows older than the window
    are deleted as new ones come."""

    __tablename__ = "login_attempt"
    __table_args__ = (sa.Index("ix_login_attempt_key_at", "key", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=120)
    at: datetime = Field(default_factory=utcnow)


class ChangeCounter(SQLModel, table=True):
    """One row whose value rises after every committed write to the data the
    pages show (`moraspar.changes`): a page cached under the value it had
    when the page was read is still current while the value is the same."""

    __tablename__ = "change_counter"

    id: int = Field(default=1, primary_key=True)
    value: int = Field(default=0, sa_type=sa.BigInteger)


@sa.event.listens_for(SQLModel.metadata.tables["change_counter"], "after_create")
def _first_change_counter_row(target: sa.Table, connection: Any, **_kw: Any) -> None:
    # The row the counter lives in, for schemas made by create_all (the
    # migration inserts it too).
    connection.execute(target.insert().values(id=1, value=0))
