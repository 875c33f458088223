"""normalized web addresses: organizations.website and events.meeting_url as the API now
stores them (club/validation.py:normalized_web_address)

Until this revision an address was stored as the caller typed it, once it passed a URL
check: quotes, angle brackets, spaces and `user:password@` survived. Each one that
normalizes is replaced by its normalized form; each one that does not (another scheme, a
user name or password, longer than the column once normalized) is left as it is and
logged as a warning (`clubjustice.migrations`), naming the row and why, for an operator to
fix with `updateOrganization` or `updateEvent`. The schema does not change; the downgrade
changes nothing (a normalized address is what the code before it would store too).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 17:00:00
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from club.validation import NotAWebAddress, normalized_web_address

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

logger = logging.getLogger("clubjustice.migrations")

# Each table's address column and its length.
ADDRESSES = (("organizations", "website", 300), ("events", "meeting_url", 500))


def upgrade() -> None:
    connection = op.get_bind()
    for table_name, column_name, length in ADDRESSES:
        table = sa.table(table_name, sa.column("id", sa.Integer()), sa.column(column_name))
        column = table.c[column_name]
        rows = connection.execute(
            sa.select(table.c.id, column).where(column.is_not(None)).order_by(table.c.id)
        ).all()
        for row_id, address in rows:
            try:
                normalized = normalized_web_address(address)
                if len(normalized) > length:
                    raise NotAWebAddress(f"is longer than {length} characters once normalized")
            except NotAWebAddress as error:
                logger.warning(
                    "%s %s: %s %r %s; left as it is",
                    table_name,
                    row_id,
                    column_name,
                    address,
                    error,
                )
                continue
            if normalized != address:
                connection.execute(
                    sa.update(table).where(table.c.id == row_id).values({column_name: normalized})
                )


def downgrade() -> None:
    pass
