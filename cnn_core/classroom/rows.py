"""What the store hands out: plain frozen records, no database objects (safe to keep in a session)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class NewClass:
    """A class just created: the only time the teacher key is available in clear."""
    class_id: int
    code: str                # "K7M-Q2P"
    teacher_key: str
    name: str
    labels: list[str]
    expires: datetime
    joining_open: bool = True


@dataclass(frozen=True)
class ClassInfo:
    class_id: int
    code: str
    name: str
    labels: list[str]
    created: datetime
    expires: datetime
    joining_open: bool
    n_students: int
    revision: int = 0        # bumped when a drawing is hidden, shown, withdrawn or deleted (the wall reloads)


@dataclass(frozen=True)
class Membership:
    student_id: int
    token: str
    nickname: str
    class_id: int
    code: str
    class_name: str = ""
    labels: list[str] = field(default_factory=list)
    expires: datetime | None = None


@dataclass(frozen=True)
class DrawingRow:
    id: int
    student_id: int
    nickname: str
    label: str
    prediction: str | None   # label name, or None when the model's guess was not one of the labels
    ok: bool | None          # prediction == label, None without a prediction
    probs: list[float] | None
    created: datetime
    hidden: bool
    heldout: bool
    model_name: str = ""


@dataclass(frozen=True)
class PushRow:
    id: int
    url: str
    title: str
    created: datetime


@dataclass(frozen=True)
class LeaderboardRow:
    id: int
    rank: int
    student_id: int | None
    nickname: str
    accuracy: float | None   # None while there is no held-out drawing to score on
    per_label: dict          # label -> accuracy (None: no held-out drawing of that label)
    n_test: int
    n_params: int
    settings: dict
    model_name: str
    created: datetime
    hidden: bool
