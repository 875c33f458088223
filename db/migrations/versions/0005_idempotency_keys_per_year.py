"""invitation idempotency keys per quota year

A key was the inviter's forever: the same key a year later found last year's invitation.
It is now the inviter's for one quota year, which is where inviteOrganization looks it up.
The downgrade fails if a key has since been used in two years by one inviter.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 16:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_invitations_inviter_id_idempotency_key"), type_="unique"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_invitations_inviter_id_year_idempotency_key"),
            ["inviter_id", "year", "idempotency_key"],
        )


def downgrade() -> None:
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_invitations_inviter_id_year_idempotency_key"), type_="unique"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_invitations_inviter_id_idempotency_key"),
            ["inviter_id", "idempotency_key"],
        )
