"""Pushed views, the class leaderboard, and the held-out flag it scores on.

The leaderboard needs a test set nobody trained on: a fixed fifth of the drawings, chosen by the
hash of the 28×28 image. Drawings sent under 0001 get their flag computed here from their stored
PNG, so an older class keeps its drawings and gains a held-out set. ``classes.revision`` lets a
wall notice hides and deletions without rereading every drawing.

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # plain ADD COLUMN (no batch copy of the table, which on SQLite would drop its AUTOINCREMENT)
    op.add_column("classes", sa.Column("revision", sa.Integer, nullable=False, server_default="0"))
    op.add_column("drawings", sa.Column("heldout", sa.Boolean, nullable=False, server_default=sa.false()))
    _backfill_heldout()
    op.create_index("ix_drawings_heldout", "drawings", ["class_id", "heldout"])
    op.create_table(
        "pushes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("class_id", sa.Integer, sa.ForeignKey("classes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("created", TS, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_pushes_class_id", "pushes", ["class_id", "id"])     # students poll id > cursor
    op.create_table(
        "leaderboard_entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("class_id", sa.Integer, sa.ForeignKey("classes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("student_id", sa.Integer, sa.ForeignKey("students.id", ondelete="CASCADE"), nullable=True),
        sa.Column("nickname", sa.Text, nullable=False),
        sa.Column("model_name", sa.Text, nullable=False),
        sa.Column("settings", sa.Text, nullable=False),
        sa.Column("checkpoint", sa.LargeBinary, nullable=False),
        sa.Column("n_params", sa.Integer, nullable=False),
        sa.Column("accuracy", sa.Float, nullable=True),
        sa.Column("per_label", sa.Text, nullable=False),
        sa.Column("n_test", sa.Integer, nullable=False),
        sa.Column("test_fingerprint", sa.String(64), nullable=False),
        sa.Column("created", TS, nullable=False),
        sa.Column("hidden", sa.Boolean, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_entries_class", "leaderboard_entries", ["class_id", "id"])


def _backfill_heldout() -> None:
    from cnn_core.classroom.images import decode_png28, heldout

    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, image_png FROM drawings")).all()
    ids = [r.id for r in rows if heldout(decode_png28(bytes(r.image_png)))]
    update = sa.text("UPDATE drawings SET heldout = :t WHERE id = :id").bindparams(
        sa.bindparam("t", type_=sa.Boolean))
    for i in range(0, len(ids), 500):
        bind.execute(update, [{"t": True, "id": did} for did in ids[i:i + 500]])


def downgrade() -> None:
    op.drop_table("leaderboard_entries")
    op.drop_table("pushes")
    op.drop_index("ix_drawings_heldout", "drawings")
    with op.batch_alter_table("drawings") as batch:
        batch.drop_column("heldout")
    with op.batch_alter_table("classes") as batch:
        batch.drop_column("revision")
