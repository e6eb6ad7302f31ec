"""The in-memory candidate pool and its incremental re-ranking: after candidate writes, a
shortlist equals ranking every stored candidate afresh, and only what changed is rescored."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from api import pool as pool_module
from api.pool import CandidatePool, VacancyScores, candidate_from_profile, rank_pool
from api.store import repo
from matcher.profiles import parse_vacancies
from tests.api.conftest import demo_records, start_api

VACANCY = "V022"  # 37 of the 60 demo candidates are eligible


def fresh_ranking(api, vacancy_id: str, *, top_k: int, lang: str):
    """What the engine gives on every stored candidate, nothing reused."""
    service = api.client.app.state.service
    with service.reading() as session:
        vacancy = parse_vacancies([repo.get_vacancy(session, vacancy_id).record])[0]
        rows = repo.active_candidates(session)
        candidates = [candidate_from_profile(r.id, r.profile) for r in rows]
    return service.engine.rank_candidates(vacancy, candidates, top_k=top_k, lang=lang)


def assert_fresh(api, vacancy_id: str = VACANCY, *, top_k: int = 10, lang: str = "es") -> dict:
    got = api.call(
        "caseworker", "GET", f"/v1/vacancies/{vacancy_id}/shortlist?top_k={top_k}&lang={lang}"
    )
    assert got.status_code == 200, got.text
    body = got.json()
    want = fresh_ranking(api, vacancy_id, top_k=top_k, lang=lang)
    assert [(i["candidate_id"], i["rank"], i["score"]) for i in body["items"]] == [
        (m.candidate_id, m.rank, m.score) for m in want
    ]
    assert [i["explanation"] for i in body["items"]] == [m.explanation[lang] for m in want]
    assert [len(i["matched"]) for i in body["items"]] == [len(m.matched) for m in want]
    assert [len(i["missing"]) for i in body["items"]] == [len(m.missing) for m in want]
    return body


@pytest.fixture
def rescored(monkeypatch) -> list[int]:
    """How many candidates each scoring call of the pool scored."""
    sizes: list[int] = []
    real = pool_module.score_candidates

    def spy(engine, vacancy, candidates):
        sizes.append(len(candidates))
        return real(engine, vacancy, candidates)

    monkeypatch.setattr(pool_module, "score_candidates", spy)
    return sizes


def profile_of(api, candidate_id: str) -> dict:
    got = api.call("caseworker", "GET", f"/v1/candidates/{candidate_id}").json()
    keep = (
        "skills",
        "past_job_titles",
        "experience_years",
        "region",
        "willing_to_relocate",
        "certifications",
        "languages",
        "consent_to_share",
        "name",
    )
    return {k: got[k] for k in keep if got.get(k) is not None}


def test_a_shortlist_after_candidate_writes_equals_ranking_everyone_afresh(api, rescored):
    before = assert_fresh(api)
    assert_fresh(api, top_k=3, lang="en")
    considered = before["candidates_considered"]
    first, second = (i["candidate_id"] for i in before["items"][:2])

    # The best candidate loses every skill: the 11th comes into the top 10.
    rescored.clear()
    changed = profile_of(api, first) | {"skills": []}
    assert api.call("caseworker", "PUT", f"/v1/candidates/{first}", json=changed).status_code == 200
    after = assert_fresh(api)
    assert first not in [i["candidate_id"] for i in after["items"]]
    assert rescored == [1], "only the changed candidate is scored again"

    # A copy of the second best, with an id that sorts first, ties it and ranks above it.
    copy = profile_of(api, second) | {"id": "0-COPY"}
    assert api.call("caseworker", "POST", "/v1/candidates", json=copy).status_code == 201
    after = assert_fresh(api)
    ids = [i["candidate_id"] for i in after["items"]]
    assert ids.index("0-COPY") == ids.index(second) - 1
    assert after["candidates_considered"] == considered + 1

    # Erasure removes the candidate from the ranking.
    assert api.call("caseworker", "DELETE", f"/v1/candidates/{second}").status_code == 200
    after = assert_fresh(api)
    assert second not in [i["candidate_id"] for i in after["items"]]
    assert after["candidates_considered"] == considered

    # A bulk import (one new, one replaced) and the other cached views.
    rescored.clear()
    records = demo_records("candidates", 2)
    records[0] = records[0] | {"id": "IMPORTED-1"}
    done = api.call("caseworker", "POST", "/v1/candidates/import", json={"candidates": records})
    assert done.status_code == 200, done.text
    assert_fresh(api)
    assert_fresh(api, top_k=3, lang="en")
    assert rescored == [2], "the scores of the vacancy are brought up to date once"
    for vid in ("V020", "V004"):
        assert_fresh(api, vid, top_k=20)


def test_the_employer_view_follows_a_consent_change(api):
    url = f"/v1/vacancies/{VACANCY}/shortlist?top_k=20"
    staff = api.call("caseworker", "GET", url).json()
    target = next(i for i in staff["items"] if i["consent_to_share"])
    shown = api.call("admin", "GET", url)  # prime the caches
    assert shown.status_code == 200
    changed = profile_of(api, target["candidate_id"]) | {"consent_to_share": False}
    put = api.call("caseworker", "PUT", f"/v1/candidates/{target['candidate_id']}", json=changed)
    assert put.status_code == 200
    for item in api.call("caseworker", "GET", url).json()["items"]:
        if item["pseudonym"] == target["pseudonym"]:
            assert item["consent_to_share"] is False


def _row(cid: str, revision: int, *, erased: bool = False, skills=("soldadura",)):
    return SimpleNamespace(
        id=cid,
        profile={} if erased else {"skills": [{"text": s} for s in skills], "region": "Lima"},
        consent_to_share=False,
        name=None,
        phone=None,
        email=None,
        erased=erased,
        revision=revision,
    )


def test_a_pool_knows_what_was_written_since_any_revision_from_its_last_full_load():
    pool = CandidatePool.load([_row("A", 1), _row("B", 2)], revision=2)
    assert pool.written_since(2) == set()
    assert pool.written_since(1) is None, "before the load: not tracked"
    later = pool.advance([_row("C", 3), _row("A", 4, erased=True)], revision=4)
    assert sorted(later.by_id) == ["B", "C"]
    assert later.revision == 4 and later.base == 2
    assert later.written_since(2) == {"A", "C"}
    assert later.written_since(3) == {"A"}
    assert later.written_since(4) == set()
    assert sorted(pool.by_id) == ["A", "B"], "advancing leaves the older pool as it was"


def test_a_shortlist_waits_off_the_event_loop_while_another_process_writes(api):
    """SQLite: while another connection holds the write lock, the shortlist waits on a worker
    thread (the server still answers), then is served and audited once."""
    if api.backend != "sqlite":
        pytest.skip("SQLite's write lock")
    import sqlite3
    import threading
    import time

    service = api.client.app.state.service
    url = f"/v1/vacancies/{VACANCY}/shortlist?top_k=5"
    assert api.call("caseworker", "GET", url).status_code == 200  # rendered and cached
    audited = len(api.call("admin", "GET", "/v1/audit?limit=1000").json())
    other = sqlite3.connect(service.db.url.database, isolation_level=None, timeout=30)
    answers = []
    asker = threading.Thread(target=lambda: answers.append(api.call("caseworker", "GET", url)))
    other.execute("BEGIN IMMEDIATE")
    try:
        asker.start()
        time.sleep(0.3)
        started = time.perf_counter()
        assert api.client.get("/healthz").status_code == 200
        assert time.perf_counter() - started < 0.25, "the event loop is not blocked"
        assert asker.is_alive() and not answers, "the shortlist waits for the lock"
    finally:
        other.execute("COMMIT")
        other.close()
    asker.join(timeout=30)
    assert answers and answers[0].status_code == 200, answers and answers[0].text
    assert len(api.call("admin", "GET", "/v1/audit?limit=1000").json()) == audited + 1
    for _ in range(3):  # the connection that met the lock went back to the pool intact
        assert api.call("caseworker", "GET", url).status_code == 200
    assert len(api.call("admin", "GET", "/v1/audit?limit=1000").json()) == audited + 4


def test_without_a_cache_every_shortlist_is_ranked_afresh_and_audited_once(engine, tmp_path):
    url = f"sqlite:///{tmp_path / 'nocache.db'}"
    for started in start_api(url, engine, "sqlite", shortlist_cache_size=0, log_level="WARNING"):
        admin = started.headers("admin")
        for vac in demo_records("vacancies"):
            assert started.client.post("/v1/vacancies", json=vac, headers=admin).status_code == 201
        cands = {"candidates": demo_records("candidates", 30)}
        assert (
            started.client.post("/v1/candidates/import", json=cands, headers=admin).status_code
            == 200
        )
        for expected_audits in (1, 2):
            assert_fresh(started)
            audit = started.call("admin", "GET", "/v1/audit?limit=100").json()
            assert len(audit) == expected_audits


def test_a_pool_takes_the_revision_of_the_newest_row_it_holds():
    assert CandidatePool.load([_row("A", 1), _row("B", 7)], revision=5).revision == 7
    pool = CandidatePool.load([_row("A", 1)], revision=5)
    assert pool.advance([_row("B", 9)], revision=6).revision == 9


def test_ranking_a_pool_ignores_scores_of_candidates_it_no_longer_holds(engine):
    vacancy = parse_vacancies(
        [
            {
                "id": "VX",
                "employer_id": "E",
                "title": "Soldador",
                "required_skills": ["soldadura"],
                "region": "Lima",
            }
        ]
    )[0]
    pool = CandidatePool.load([_row("A", 1), _row("B", 1)], revision=1)
    scores = VacancyScores(1, {"GONE": 0.99, "A": 0.5, "B": 0.4})
    ranked = rank_pool(engine, vacancy, pool, scores, top_k=5, lang="es")
    assert [m.candidate_id for m in ranked] == ["A", "B"]
