"""The review queue: curators' tokens, /review over real HTTP, CSRF, the audit log, the CLI."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from eurodex import cli, pipeline
from eurodex.proof.curation import parse_curation
from eurodex.review.curators import add_curator, authenticate_token
from eurodex.review.decisions import DecisionError, decide
from eurodex.settings import Settings
from eurodex.store import repository as repo
from eurodex.store.tables import AuditLog, Curator
from eurodex.web.app import create_app
from eurodex.web.forms import CSRF_COOKIE, SESSION_COOKIE

from .officialness_helpers import CURATION_YAML, ListHarvester, api_candidate


def quarantine(store) -> str:
    """One entry under the agency's domain (40 points): it waits for review."""
    cur = parse_curation(CURATION_YAML, "curation.yaml")
    harvester = ListHarvester(records=[
        api_candidate("exa", "https://api.example-agency.gouv.fr"),
        api_candidate("other", "https://api2.example-agency.gouv.fr"),
    ])
    report = pipeline.harvest(store, harvester, curation=cur)
    pipeline.score(store, report.entry_ids)
    with store.session() as session:
        entry = repo.entry_by_slug(session, "exa")
        assert entry.status == "QUARANTINED"
        return entry.slug


@pytest.fixture
def review_site(store, serve):
    slug = quarantine(store)
    with store.session() as session:
        token = add_curator(session, "alice")
    app = create_app(Settings(database_url=store.url), store)
    with serve(app) as served:
        yield served, token, slug


def test_tokens_are_stored_hashed_and_checked(store):
    with store.session() as session:
        token = add_curator(session, "alice")
        row = session.scalar(select(Curator))
        assert token.startswith(f"edx_{row.token_id}_")
        assert token.split("_", 2)[2] not in (row.token_hash, row.token_salt)
        assert authenticate_token(session, token).name == "alice"
        assert authenticate_token(session, token[:-1] + ("A" if token[-1] != "A" else "B")) \
            is None
        assert authenticate_token(session, "edx_0000000000000000_" + "x" * 43) is None
        assert authenticate_token(session, "nonsense") is None


def test_review_without_a_token_answers_401(review_site):
    served, _, _ = review_site
    response = httpx.get(served.url + "/review")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "status": 401, "error": (
        "curators only: send Authorization: Bearer <token>, or sign in at /review/login")}
    assert response.headers["www-authenticate"].startswith("Bearer")
    page = httpx.get(served.url + "/review", headers={"accept": "text/html"})
    assert page.status_code == 401 and 'name="token"' in page.text
    wrong = httpx.get(served.url + "/review", headers={"authorization": "Bearer edx_nope"})
    assert wrong.status_code == 401
    post = httpx.post(served.url + "/review/exa", data={"action": "approve"})
    assert post.status_code == 401


def test_a_curator_approves_with_a_bearer_token_and_it_is_audited(review_site, store):
    served, token, slug = review_site
    auth = {"authorization": f"Bearer {token}"}
    queue = httpx.get(served.url + "/review", headers=auth)
    assert queue.status_code == 200
    assert f'data-slug="{slug}"' in queue.text and 'data-slug="other"' in queue.text

    decided = httpx.post(served.url + f"/review/{slug}", headers=auth,
                         data={"action": "approve", "reason": "the agency's own API"})
    assert decided.status_code == 200 and decided.json() == {
        "ok": True, "slug": slug, "status": "APPROVED"}
    again = httpx.post(served.url + f"/review/{slug}", headers=auth, data={"action": "reject",
                                                                          "reason": "x"})
    assert again.status_code == 409 and "not waiting for review" in again.json()["error"]
    no_reason = httpx.post(served.url + "/review/other", headers=auth, data={"action": "reject"})
    assert no_reason.status_code == 400 and no_reason.json()["error"] == (
        "a rejection needs a reason")

    with store.session() as session:
        entry = repo.entry_by_slug(session, slug)
        assert (entry.status, entry.status_reason) == (
            "APPROVED", "curator alice approved: the agency's own API")
        [log] = session.scalars(select(AuditLog)).all()
        assert (log.actor, log.action, log.entry_slug, log.from_status, log.to_status,
                log.reason) == ("alice", "approve", slug, "QUARANTINED", "APPROVED",
                                "the agency's own API")
        assert log.at is not None
    page = httpx.get(served.url + f"/entry/{slug}").text
    assert "curator alice approved: the agency&#39;s own API" in page
    assert 'data-testid="decision"' in page
    # Approved entries are listed; the other one still waits.
    listed = httpx.get(served.url + "/api/v1/entries").json()
    assert [e["slug"] for e in listed["entries"]] == [slug]


def test_session_forms_need_their_csrf_token(review_site):
    served, token, slug = review_site

    def form_token(html: str) -> str:
        return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]

    # Cookies are Secure; httpx would not send them back to http://127.0.0.1 by itself, so
    # each is copied into the client's jar by hand (a browser treats loopback as secure).
    with httpx.Client(base_url=served.url, headers={"accept": "text/html"}) as client:
        login_page = client.get("/review/login")
        csrf = form_token(login_page.text)
        assert client.post("/review/login", data={"token": token}).status_code == 403
        client.cookies.set(CSRF_COOKIE, login_page.cookies[CSRF_COOKIE])
        assert client.post("/review/login", data={"token": "edx_bad", "csrf_token": csrf}
                           ).status_code == 401
        signed = client.post("/review/login", data={"token": token, "csrf_token": csrf})
        assert signed.status_code == 303
        set_cookie = signed.headers["set-cookie"].lower()
        for flag in ("httponly", "secure", "samesite=strict"):
            assert flag in set_cookie
        client.cookies.set(SESSION_COOKIE, signed.cookies[SESSION_COOKIE])
        queue = client.get("/review")
        assert queue.status_code == 200
        assert client.post(f"/review/{slug}", data={"action": "approve"}).status_code == 403
        assert client.post(f"/review/{slug}", data={"action": "approve", "csrf_token": csrf}
                           ).status_code == 403  # the anonymous token is not the session's
        done = client.post(f"/review/{slug}", data={"action": "approve", "reason": "ok",
                                                    "csrf_token": form_token(queue.text)})
        assert done.status_code == 303 and done.headers["location"] == f"/review?done={slug}"


def test_decisions_apply_only_to_quarantined_entries(store):
    slug = quarantine(store)
    with store.session() as session:
        with pytest.raises(DecisionError, match="no entry 'nope'"):
            decide(session, "nope", "approve", "bob", None)
        with pytest.raises(DecisionError, match="unknown action"):
            decide(session, slug, "delete", "bob", None)
        decision = decide(session, slug, "reject", "bob", "  not an API  ")
    assert decision.reason == "curator bob rejected: not an API"


def _cli(tmp_path, *args):
    """The ``eurodex`` command, run in this process on the test's database file."""
    env = {"EURODEX_DATABASE_URL": f"sqlite:///{tmp_path / 'eurodex.db'}", "COLUMNS": "200",
           "EURODEX_CURATION_FILE": ""}
    result = CliRunner().invoke(cli.app, list(args), env=env)
    result.returncode = result.exit_code
    return result


def test_the_review_commands(store, tmp_path):
    from eurodex.store.db import Store

    db = Store(f"sqlite:///{tmp_path / 'eurodex.db'}")
    db.migrate()
    quarantine(db)
    db.dispose()
    added = _cli(tmp_path, "curator", "add", "carol")
    assert added.returncode == 0, added.output
    token = added.stdout.strip().splitlines()[-1]
    assert token.startswith("edx_")
    assert _cli(tmp_path, "curator", "add", "carol").returncode == 2
    listed = _cli(tmp_path, "review", "list")
    assert "exa" in listed.stdout and "other" in listed.stdout
    approved = _cli(tmp_path, "review", "approve", "exa", "--reason", "checked", "--by", "carol")
    assert approved.returncode == 0, approved.output
    assert "exa: APPROVED (curator carol approved: checked)" in approved.stdout
    unreasoned = _cli(tmp_path, "review", "reject", "other")
    assert unreasoned.returncode == 2  # --reason is required
    rejected = _cli(tmp_path, "review", "reject", "other", "--reason", "a test API")
    assert rejected.returncode == 0 and "REJECTED" in rejected.stdout
    assert "Nothing is waiting" in _cli(tmp_path, "review", "list").stdout
    db = Store(f"sqlite:///{tmp_path / 'eurodex.db'}")
    with db.session() as session:
        actors = [row.actor for row in session.scalars(select(AuditLog).order_by(AuditLog.id))]
        assert actors[0] == "carol" and actors[1].startswith("cli")
        assert token not in str([c.token_hash for c in session.scalars(select(Curator))])
    db.dispose()
