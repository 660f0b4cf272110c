"""The composite quality score and its tier (methodology 5)."""

from __future__ import annotations

import math

from eurodex.model import QualityScore
from eurodex.score.axes import (
    ScoreFacts,
    agent_readiness,
    availability,
    licence_clarity,
    metadata_completeness,
    officialness,
)

WEIGHTS = {
    "officialness": 0.25,
    "availability": 0.25,
    "metadata_completeness": 0.20,
    "licence_clarity": 0.15,
    "agent_readiness": 0.15,
}

TIERS = ((80, "excellent"), (60, "good"), (40, "fair"))


def tier_for(composite: int) -> str:
    return next((name for floor, name in TIERS if composite >= floor), "poor")


def round_half_up(value: float) -> int:
    """73.5 rounds to 74, as a reader expects; Python's round() would give 74 or 73."""
    return math.floor(value + 0.5 + 1e-9)


def score_entry(facts: ScoreFacts) -> QualityScore:
    axes = [
        officialness(facts),
        availability(facts),
        metadata_completeness(facts),
        licence_clarity(facts),
        agent_readiness(facts),
    ]
    exact = sum(WEIGHTS[a.axis] * a.score for a in axes)
    composite = round_half_up(exact)
    return QualityScore(axes=axes, composite=composite, composite_exact=round(exact, 2),
                        tier=tier_for(composite))
