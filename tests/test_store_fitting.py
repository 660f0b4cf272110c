"""Harvested text fits the store: composed Unicode, over-long names cut, over-long URLs refused."""

from __future__ import annotations

from eurodex.harvest.records import Candidate, FieldValue, RecordError
from eurodex.model import Kind
from eurodex.store.fitting import ENTRY_LIMITS, fit_candidate


def _candidate(**fields: object) -> Candidate:
    return Candidate(record_id="r1", record_url=None, kind=Kind.API,
                     fields={name: FieldValue(value) for name, value in fields.items()})


def test_decomposed_text_is_stored_composed():
    fitted = fit_candidate(_candidate(name="API contro\u0302le", tags=["e\u0301tudiant", "cvec"],
                                      description="Donne\u0301es"), "test")
    assert fitted.value("name") == "API contrôle"
    assert fitted.value("tags") == ["étudiant", "cvec"]
    assert fitted.value("description") == "Données"
    untouched = _candidate(name="API contrôle")
    assert fit_candidate(untouched, "test") is untouched


def test_a_long_name_is_cut_and_a_long_url_skips_the_record():
    limit = ENTRY_LIMITS["name"]
    cut = fit_candidate(_candidate(name="mot " * limit), "test")
    assert len(cut.value("name")) <= limit and cut.value("name").endswith("…")
    refused = fit_candidate(_candidate(base_url="https://a.example/" + "x" * 5000), "test")
    assert isinstance(refused, RecordError) and "base_url" in refused.reason
