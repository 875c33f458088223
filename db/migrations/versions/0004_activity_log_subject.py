"""activity log subject: (subject_type, subject_id) instead of a column per kind of subject

Each row names what it is about as the name of a mapped class and a row id ('Event', 7);
the other rows it mentioned (an event's host, the invitation behind a new member) move into
its payload under the names of the columns they leave (`organization_id`, ...), which is
where the code writes them from now on. The downgrade moves them back; a subject of a type
that had no column (written after this revision) is dropped by it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The columns that named subjects until this revision, with the subject type each names
# and the table it refers to.
COLUMNS = {
    "organization_id": ("Organization", "organizations"),
    "event_id": ("Event", "events"),
    "invitation_id": ("Invitation", "invitations"),
    "working_group_id": ("WorkingGroup", "working_groups"),
}
BATCH = 1000

log = sa.table(
    "activity_log",
    sa.column("id", sa.BigInteger()),
    sa.column("kind", sa.String()),
    sa.column("subject_type", sa.String()),
    sa.column("subject_id", sa.BigInteger()),
    sa.column("payload", sa.JSON()),
    *(sa.column(name, sa.Integer()) for name in COLUMNS),
)


def subject_column(kind: str, row: Any) -> str | None:
    """Which old column held the row's subject, as the code before this revision wrote
    them: the event for meeting rows (also attendance, whose organization is the attendee),
    the organization for MEMBER_JOINED (its invitation rode along), else the invitation,
    the working group (its organization is the member or owner), the organization."""
    order = ["event_id", "invitation_id", "working_group_id", "organization_id"]
    if kind == "MEMBER_JOINED":
        order = ["organization_id", *order]
    return next((name for name in order if getattr(row, name) is not None), None)


def rows(connection: sa.Connection, *columns: str) -> Iterator[Sequence[Any]]:
    """The log's rows in batches, by id."""
    after = 0
    while True:
        batch = connection.execute(
            sa.select(log.c.id, log.c.kind, log.c.payload, *(log.c[name] for name in columns))
            .where(log.c.id > after)
            .order_by(log.c.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        yield batch
        after = batch[-1].id


def upgrade() -> None:
    with op.batch_alter_table("activity_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject_type", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column(
                "subject_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )

    connection = op.get_bind()
    for batch in rows(connection, *COLUMNS):
        changes = []
        for row in batch:
            subject = subject_column(row.kind, row)
            related = {
                name: getattr(row, name)
                for name in COLUMNS
                if name != subject and getattr(row, name) is not None
            }
            changes.append(
                {
                    "row_id": row.id,
                    "new_type": None if subject is None else COLUMNS[subject][0],
                    "new_id": None if subject is None else getattr(row, subject),
                    "new_payload": {**related, **(row.payload or {})},
                }
            )
        connection.execute(
            log.update()
            .where(log.c.id == sa.bindparam("row_id"))
            .values(
                subject_type=sa.bindparam("new_type"),
                subject_id=sa.bindparam("new_id"),
                payload=sa.bindparam("new_payload", type_=sa.JSON()),
            ),
            changes,
        )

    with op.batch_alter_table("activity_log", schema=None) as batch_op:
        for name, (_, table) in COLUMNS.items():
            batch_op.drop_constraint(op.f(f"fk_activity_log_{name}_{table}"), type_="foreignkey")
            batch_op.drop_column(name)
        batch_op.create_check_constraint(
            op.f("ck_activity_log_subject_type_with_id"),
            "(subject_type IS NULL) = (subject_id IS NULL)",
        )
        batch_op.create_index(
            "ix_activity_log_subject", ["subject_type", "subject_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("activity_log", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))

    connection = op.get_bind()
    column_of = {subject_type: name for name, (subject_type, _) in COLUMNS.items()}
    for batch in rows(connection, "subject_type", "subject_id"):
        changes = []
        for row in batch:
            payload = dict(row.payload or {})
            values = {f"new_{name}": payload.pop(name, None) for name in COLUMNS}
            if row.subject_type in column_of:
                values[f"new_{column_of[row.subject_type]}"] = row.subject_id
            changes.append({"row_id": row.id, "new_payload": payload, **values})
        connection.execute(
            log.update()
            .where(log.c.id == sa.bindparam("row_id"))
            .values(
                payload=sa.bindparam("new_payload", type_=sa.JSON()),
                **{name: sa.bindparam(f"new_{name}") for name in COLUMNS},
            ),
            changes,
        )

    with op.batch_alter_table("activity_log", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_log_subject")
        batch_op.drop_constraint(op.f("ck_activity_log_subject_type_with_id"), type_="check")
        batch_op.drop_column("subject_id")
        batch_op.drop_column("subject_type")
        for name, (_, table) in COLUMNS.items():
            batch_op.create_foreign_key(
                op.f(f"fk_activity_log_{name}_{table}"), table, [name], ["id"]
            )
