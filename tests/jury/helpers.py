"""Builders of the jury tests (on top of tests/factories.py)."""

from __future__ import annotations

from app.jury import services
from tests import factories


def make_file(*args, **kwargs):
    """factories.make_file with its assessor built first (building it while the file is pending
    trips an autoflush warning)."""
    if kwargs.get("assessor") is None:
        kwargs["assessor"] = factories.make_assessor()
    return factories.make_file(*args, **kwargs)


def decide(file, actor, validated: list[bool] | bool = True, **kwargs):
    """Records a decision: `validated` per competence of the file (or one value for all)."""
    if isinstance(validated, bool):
        validated = [validated] * len(file.competences)
    results = {c.id: v for c, v in zip(file.competences, validated, strict=True)}
    return services.record_decision(file, actor, results, **kwargs)
