"""The tables at the newest migration, for the store's queries (the migrations create them).

Times are timezone-aware UTC. Text is ``Text`` (no length in the database: the caps live in
``cnn_core.limits`` and are checked before a row is written, so raising one needs no migration).
"""
from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

classes = sa.Table(
    "classes", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(6), nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("labels", sa.Text, nullable=False),                # JSON list of names
    sa.Column("teacher_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires", sa.DateTime(timezone=True), nullable=False),
    sa.Column("joining_open", sa.Boolean, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False, server_default="0"),       # 0002
    sqlite_autoincrement=True,
)

students = sa.Table(
    "students", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("class_id", sa.Integer, sa.ForeignKey("classes.id", ondelete="CASCADE"), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("nickname", sa.Text, nullable=False),
    sa.Column("status", sa.String(8), nullable=False),           # active | left | removed
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sqlite_autoincrement=True,
)

drawings = sa.Table(
    "drawings", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("class_id", sa.Integer, sa.ForeignKey("classes.id", ondelete="CASCADE"), nullable=False),
    sa.Column("student_id", sa.Integer, sa.ForeignKey("students.id", ondelete="CASCADE"), nullable=False),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("prediction", sa.Integer, nullable=True),          # index into the class's labels
    sa.Column("probs", sa.Text, nullable=True),                  # JSON list, one per label
    sa.Column("model_name", sa.Text, nullable=False),
    sa.Column("image_png", sa.LargeBinary, nullable=False),      # 28×28 uint8 grayscale PNG
    sa.Column("thumbnail_png", sa.LargeBinary, nullable=True),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("hidden", sa.Boolean, nullable=False),
    sa.Column("heldout", sa.Boolean, nullable=False, server_default=sa.false()),  # 0002
    sqlite_autoincrement=True,
)

pushes = sa.Table(                                                # 0002
    "pushes", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("class_id", sa.Integer, sa.ForeignKey("classes.id", ondelete="CASCADE"), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sqlite_autoincrement=True,
)

entries = sa.Table(                                               # 0002: the leaderboard
    "leaderboard_entries", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("class_id", sa.Integer, sa.ForeignKey("classes.id", ondelete="CASCADE"), nullable=False),
    sa.Column("student_id", sa.Integer, sa.ForeignKey("students.id", ondelete="CASCADE"), nullable=True),
    sa.Column("nickname", sa.Text, nullable=False),
    sa.Column("model_name", sa.Text, nullable=False),
    sa.Column("settings", sa.Text, nullable=False),              # JSON object
    sa.Column("checkpoint", sa.LargeBinary, nullable=False),     # checkpoints.to_bytes (safetensors)
    sa.Column("n_params", sa.Integer, nullable=False),
    sa.Column("accuracy", sa.Float, nullable=True),
    sa.Column("per_label", sa.Text, nullable=False),             # JSON {label: accuracy | null}
    sa.Column("n_test", sa.Integer, nullable=False),
    sa.Column("test_fingerprint", sa.String(64), nullable=False),  # which held-out drawings scored it
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("hidden", sa.Boolean, nullable=False),
    sqlite_autoincrement=True,
)

ALL_TABLES = (entries, pushes, drawings, students, classes)       # children first, for deletes
