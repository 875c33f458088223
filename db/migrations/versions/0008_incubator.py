"""the ideas incubator: programs, their supporters and graduates; initiatives, their
countries, partners, supporters and stage history; two more focus areas

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_FOCUS_AREAS = (
    "TECH_SOLUTIONS",
    "PARALEGAL_FIELD_WORK",
    "PRO_BONO_LAWYERS",
    "DATA_AND_EVIDENCE",
    "OTHER",
)
NEW_FOCUS_AREAS = (
    "TECH_SOLUTIONS",
    "PARALEGAL_FIELD_WORK",
    "PRO_BONO_LAWYERS",
    "DATA_AND_EVIDENCE",
    "PUBLIC_HEALTH",
    "SOCIAL_PROBLEMS",
    "OTHER",
)
STAGES = ("IDEA", "INCUBATING", "PILOTING", "IMPLEMENTED", "SHELVED")


def _enum(values: Sequence[str], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _focus_area_check(values: Sequence[str]) -> str:
    return "focus_area IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def _working_group_focus_areas(values: Sequence[str]) -> None:
    # The CHECK that the enum column carries, rebuilt with the vocabulary (SQLite copies the
    # table in batch mode).
    with op.batch_alter_table("working_groups", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_working_groups_focusarea"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_working_groups_focusarea"), _focus_area_check(values)
        )


def upgrade() -> None:
    _working_group_focus_areas(NEW_FOCUS_AREAS)
    op.create_table(
        "incubator_programs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organizer_id"],
            ["organizations.id"],
            name=op.f("fk_incubator_programs_organizer_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incubator_programs")),
        sa.UniqueConstraint("slug", name=op.f("uq_incubator_programs_slug")),
    )
    op.create_index(
        op.f("ix_incubator_programs_organizer_id"),
        "incubator_programs",
        ["organizer_id"],
        unique=False,
    )
    op.create_table(
        "program_supporters",
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("commitment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_program_supporters_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["incubator_programs.id"],
            name=op.f("fk_program_supporters_program_id_incubator_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "program_id", "organization_id", name=op.f("pk_program_supporters")
        ),
    )
    op.create_index(
        op.f("ix_program_supporters_organization_id"),
        "program_supporters",
        ["organization_id"],
        unique=False,
    )
    op.create_table(
        "program_graduates",
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_program_graduates_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["incubator_programs.id"],
            name=op.f("fk_program_graduates_program_id_incubator_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("program_id", "organization_id", name=op.f("pk_program_graduates")),
    )
    op.create_index(
        op.f("ix_program_graduates_organization_id"),
        "program_graduates",
        ["organization_id"],
        unique=False,
    )
    op.create_index(op.f("ix_program_graduates_year"), "program_graduates", ["year"], unique=False)
    op.create_table(
        "initiatives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("focus_area", _enum(NEW_FOCUS_AREAS, "focusarea"), nullable=False),
        sa.Column("proposer_id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=True),
        sa.Column("cohort_year", sa.Integer(), nullable=True),
        sa.Column("working_group_id", sa.Integer(), nullable=True),
        sa.Column("stage", _enum(STAGES, "initiativestage"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "cohort_year IS NULL OR program_id IS NOT NULL",
            name=op.f("ck_initiatives_cohort_of_program"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["incubator_programs.id"],
            name=op.f("fk_initiatives_program_id_incubator_programs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["proposer_id"],
            ["organizations.id"],
            name=op.f("fk_initiatives_proposer_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["working_group_id"],
            ["working_groups.id"],
            name=op.f("fk_initiatives_working_group_id_working_groups"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiatives")),
    )
    for column in ("focus_area", "proposer_id", "program_id", "working_group_id", "stage"):
        op.create_index(op.f(f"ix_initiatives_{column}"), "initiatives", [column], unique=False)
    op.create_table(
        "initiative_countries",
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("country_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["country_id"],
            ["countries.id"],
            name=op.f("fk_initiative_countries_country_id_countries"),
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_initiative_countries_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "initiative_id", "country_id", name=op.f("pk_initiative_countries")
        ),
    )
    op.create_index(
        op.f("ix_initiative_countries_country_id"),
        "initiative_countries",
        ["country_id"],
        unique=False,
    )
    for name, extra in (
        ("initiative_partners", sa.Column("added_at", sa.DateTime(timezone=True), nullable=False)),
        ("initiative_supporters", sa.Column("commitment", sa.Text(), nullable=True)),
    ):
        op.create_table(
            name,
            sa.Column("initiative_id", sa.Integer(), nullable=False),
            sa.Column("organization_id", sa.Integer(), nullable=False),
            extra,
            sa.ForeignKeyConstraint(
                ["initiative_id"],
                ["initiatives.id"],
                name=op.f(f"fk_{name}_initiative_id_initiatives"),
                ondelete="CASCADE",
            ),
            sa.ForeignKeyConstraint(
                ["organization_id"],
                ["organizations.id"],
                name=op.f(f"fk_{name}_organization_id_organizations"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("initiative_id", "organization_id", name=op.f(f"pk_{name}")),
        )
        op.create_index(op.f(f"ix_{name}_organization_id"), name, ["organization_id"], unique=False)
    op.create_table(
        "initiative_stage_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("stage", _enum(STAGES, "initiativestage"), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["organizations.id"],
            name=op.f("fk_initiative_stage_changes_changed_by_id_organizations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_initiative_stage_changes_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiative_stage_changes")),
    )
    op.create_index(
        op.f("ix_initiative_stage_changes_changed_by_id"),
        "initiative_stage_changes",
        ["changed_by_id"],
        unique=False,
    )
    op.create_index(
        "ix_initiative_stage_changes_history",
        "initiative_stage_changes",
        ["initiative_id", "changed_at"],
        unique=False,
    )


def downgrade() -> None:
    for name in (
        "initiative_stage_changes",
        "initiative_supporters",
        "initiative_partners",
        "initiative_countries",
        "initiatives",
        "program_graduates",
        "program_supporters",
        "incubator_programs",
    ):
        op.drop_table(name)  # their indexes go with them
    op.execute(
        "DELETE FROM working_groups WHERE focus_area IN ('PUBLIC_HEALTH', 'SOCIAL_PROBLEMS')"
    )
    _working_group_focus_areas(OLD_FOCUS_AREAS)
