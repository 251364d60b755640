"""On-call: people, contact methods, notification rules, schedules (layers, overrides, swap
requests), escalation policies, incidents' escalation state and roles, an incident's
assignee and a token's person.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 18:04:11
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import vigil.db.base

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "escalation_policies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("repeat", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("min_severity", sa.String(length=16), nullable=True),
        sa.Column("created_at", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_policies")),
        sa.UniqueConstraint("name", name=op.f("uq_escalation_policies_name")),
    )
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("handle", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("working_hours", sa.JSON(), nullable=False),
        sa.Column("quiet_hours", sa.JSON(), nullable=True),
        sa.Column("test_page_days", sa.Integer(), nullable=False),
        sa.Column("last_test_page_at", vigil.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("handle", name=op.f("uq_people_handle")),
    )
    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
        sa.UniqueConstraint("name", name=op.f("uq_schedules_name")),
    )
    op.create_table(
        "contact_methods",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=50), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("verified_at", vigil.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("code_expires_at", vigil.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("code_attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_contact_methods_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_contact_methods_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_methods")),
        sa.UniqueConstraint("person_id", "label", name=op.f("uq_contact_methods_person_id_label")),
    )
    with op.batch_alter_table("contact_methods", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contact_methods_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "incident_escalations",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("policy", sa.String(length=100), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("repeat", sa.Integer(), nullable=False),
        sa.Column("urgency", sa.String(length=8), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("next_at", vigil.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("paged", sa.JSON(), nullable=False),
        sa.Column("fired_at", vigil.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_escalations_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_incident_escalations")),
    )
    with op.batch_alter_table("incident_escalations", schema=None) as batch_op:
        batch_op.create_index("ix_incident_escalations_due", ["state", "next_at"], unique=False)

    op.create_table(
        "incident_roles",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("person", sa.String(length=50), nullable=False),
        sa.Column("since", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_roles_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", "role", name=op.f("pk_incident_roles")),
    )
    op.create_table(
        "schedule_layers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("handoff", sa.String(length=19), nullable=False),
        sa.Column("length_minutes", sa.Integer(), nullable=False),
        sa.Column("restrictions", sa.JSON(), nullable=False),
        sa.Column("ical_url", sa.String(length=1000), nullable=True),
        sa.Column("ical_text", sa.Text(), nullable=True),
        sa.Column("ical_fetched_at", vigil.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ical_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_schedule_layers_schedule_id_schedules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_layers")),
        sa.UniqueConstraint(
            "schedule_id", "name", name=op.f("uq_schedule_layers_schedule_id_name")
        ),
    )
    with op.batch_alter_table("schedule_layers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_schedule_layers_schedule_id"), ["schedule_id"], unique=False
        )

    op.create_table(
        "schedule_overrides",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("start", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("person", sa.String(length=50), nullable=False),
        sa.Column("replaces", sa.String(length=50), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_schedule_overrides_schedule_id_schedules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_overrides")),
    )
    with op.batch_alter_table("schedule_overrides", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_schedule_overrides_schedule_id"), ["schedule_id"], unique=False
        )

    op.create_table(
        "swap_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("requester", sa.String(length=50), nullable=False),
        sa.Column("start", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("accepted_by", sa.String(length=50), nullable=True),
        sa.Column("override_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", vigil.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_swap_requests_schedule_id_schedules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_swap_requests")),
    )
    op.create_table(
        "notification_rules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("urgency", sa.String(length=8), nullable=False),
        sa.Column("delay_seconds", sa.Integer(), nullable=False),
        sa.Column("repeat_seconds", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contact_methods.id"],
            name=op.f("fk_notification_rules_contact_id_contact_methods"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_notification_rules_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_rules")),
    )
    with op.batch_alter_table("notification_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_rules_person_id"), ["person_id"], unique=False
        )

    # Plain ADD COLUMN: never a table rebuild of incidents or tokens.
    op.add_column(
        "channels", sa.Column("personal", sa.Boolean(), server_default="0", nullable=False)
    )
    op.add_column("api_tokens", sa.Column("person", sa.String(length=50), nullable=True))
    op.add_column("incidents", sa.Column("assignee", sa.String(length=50), nullable=True))
    op.create_index("ix_incidents_assignee", "incidents", ["assignee"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_incidents_assignee", table_name="incidents")
    op.drop_column("incidents", "assignee")
    op.drop_column("api_tokens", "person")
    op.drop_column("channels", "personal")

    with op.batch_alter_table("notification_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_rules_person_id"))

    op.drop_table("notification_rules")
    op.drop_table("swap_requests")
    with op.batch_alter_table("schedule_overrides", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schedule_overrides_schedule_id"))

    op.drop_table("schedule_overrides")
    with op.batch_alter_table("schedule_layers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schedule_layers_schedule_id"))

    op.drop_table("schedule_layers")
    op.drop_table("incident_roles")
    with op.batch_alter_table("incident_escalations", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_escalations_due")

    op.drop_table("incident_escalations")
    with op.batch_alter_table("contact_methods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_methods_person_id"))

    op.drop_table("contact_methods")
    op.drop_table("schedules")
    op.drop_table("people")
    op.drop_table("escalation_policies")
