"""Classes, students and their drawings: the first class mode (a live wall, no leaderboard yet).

Revision ID: 0001
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
# sqlite_autoincrement: SQLite would otherwise reuse the id of a deleted newest row, and a wall
# whose cursor is at that id would never see the new drawing (PostgreSQL sequences never reuse).


def upgrade() -> None:
    op.create_table(
        "classes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(6), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("labels", sa.Text, nullable=False),
        sa.Column("teacher_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created", TS, nullable=False),
        sa.Column("expires", TS, nullable=False),
        sa.Column("joining_open", sa.Boolean, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_classes_expires", "classes", ["expires"])    # the expiry purge
    op.create_table(
        "students",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("class_id", sa.Integer, sa.ForeignKey("classes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("nickname", sa.Text, nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("created", TS, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_students_class", "students", ["class_id"])
    op.create_table(
        "drawings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("class_id", sa.Integer, sa.ForeignKey("classes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("student_id", sa.Integer, sa.ForeignKey("students.id", ondelete="CASCADE"), nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("prediction", sa.Integer, nullable=True),
        sa.Column("probs", sa.Text, nullable=True),
        sa.Column("model_name", sa.Text, nullable=False),
        sa.Column("image_png", sa.LargeBinary, nullable=False),
        sa.Column("thumbnail_png", sa.LargeBinary, nullable=True),
        sa.Column("created", TS, nullable=False),
        sa.Column("hidden", sa.Boolean, nullable=False),
        sqlite_autoincrement=True,
    )
    # The teacher's wall polls "drawings of class C with id > cursor" every 2 s: this index makes
    # that read touch only the new rows.
    op.create_index("ix_drawings_class_id", "drawings", ["class_id", "id"])
    op.create_index("ix_drawings_student", "drawings", ["student_id", "created"])  # per-minute cap


def downgrade() -> None:
    op.drop_table("drawings")
    op.drop_table("students")
    op.drop_table("classes")
