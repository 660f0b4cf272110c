"""Admission (methodology 3): approve, quarantine for review, or reject, with the reason."""

from __future__ import annotations

from dataclasses import dataclass

from eurodex.model import Status


@dataclass(frozen=True)
class Admission:
    status: Status
    reason: str


def admit(
    *,
    officialness: int,
    has_institution: bool,
    source_name: str,
    source_trusted: bool,
    blocklisted_host: str | None = None,
) -> Admission:
    """Apply the admission rules in the methodology's order; the first that matches decides."""
    if blocklisted_host:
        return Admission(Status.REJECTED, f"primary host {blocklisted_host} is on the blocklist")
    if source_trusted and has_institution:
        return Admission(Status.APPROVED, f"listed by trusted catalogue {source_name}")
    if officialness >= 80 and has_institution:
        return Admission(
            Status.APPROVED, f"officialness {officialness} >= 80 with a known institution"
        )
    if officialness >= 80:
        return Admission(
            Status.QUARANTINED, f"officialness {officialness} but no known institution: "
            "waiting for review"
        )
    if officialness >= 40:
        return Admission(
            Status.QUARANTINED, f"officialness {officialness} is 40-79: waiting for review"
        )
    return Admission(Status.REJECTED, f"officialness {officialness} is below 40")
