"""Routes end to end on each database: domain rules, bad input, erasure, audit and outcomes."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from api.store.models import AuditRecord, CandidateRow
from tests.api.conftest import OWN_EMPLOYER
from tests.api.test_authorization import candidate_body, vacancy_body

PROBLEM = "application/problem+json"


def stored_state(api) -> tuple:
    staff = api.headers("admin")
    cands = api.client.get("/v1/candidates?limit=500", headers=staff).json()
    vacs = api.client.get("/v1/vacancies?limit=500", headers=staff).json()
    return (
        sorted((c["id"], c["updated_at"]) for c in cands),
        sorted((v["id"], v["updated_at"]) for v in vacs),
    )


def fields_of(response) -> list[str]:
    assert response.headers["content-type"].startswith(PROBLEM), response.text
    return [e["field"] for e in response.json().get("errors", [])]


def test_a_vacancy_below_the_minimum_wage_or_without_openings_is_refused(api):
    before = stored_state(api)
    low = vacancy_body("VW-1", OWN_EMPLOYER) | {"monthly_wage_pen": 1129.99}
    got = api.call("employer", "POST", "/v1/vacancies", json=low)
    assert got.status_code == 422
    assert fields_of(got) == ["monthly_wage_pen"]
    assert "1,130" in got.json()["errors"][0]["message"]
    none = vacancy_body("VW-2", OWN_EMPLOYER) | {"openings": 0}
    got = api.call("employer", "POST", "/v1/vacancies", json=none)
    assert got.status_code == 422 and fields_of(got) == ["openings"]
    assert stored_state(api) == before


BAD_BODIES = [
    ("malformed JSON", "/v1/candidates", b'{"id": "B1", "skills": [', "(body)"),
    ("wrong type", "/v1/candidates", {"id": "B2", "experience_years": "ten"}, "experience_years"),
    ("unknown field", "/v1/candidates", {"id": "B3", "nmae": "typo"}, "nmae"),
    ("negative number", "/v1/candidates", {"id": "B4", "experience_years": -2}, "experience_years"),
    (
        "negative wage",
        "/v1/vacancies",
        vacancy_body("VB", OWN_EMPLOYER) | {"monthly_wage_pen": -1},
        "monthly_wage_pen",
    ),
    (
        "duplicated ids",
        "/v1/candidates/import",
        {"candidates": [candidate_body("DUP"), candidate_body("DUP")]},
        "id",
    ),
    (
        "bad skill item",
        "/v1/candidates",
        {"id": "B5", "skills": [{"text": "x", "years": -1}]},
        "skills[0].years",
    ),
]


@pytest.mark.parametrize(
    ("case", "path", "body", "field"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES]
)
def test_bad_input_gets_a_problem_naming_the_field_and_changes_nothing(
    api, case, path, body, field
):
    before = stored_state(api)
    if isinstance(body, bytes):
        got = api.call(
            "caseworker", "POST", path, content=body, headers={"content-type": "application/json"}
        )
    else:
        got = api.call("caseworker", "POST", path, json=body)
    assert 400 <= got.status_code < 500, got.text
    assert got.status_code == 422
    assert any(f == field or f.endswith(field) for f in fields_of(got)), (case, got.json())
    assert stored_state(api) == before


def test_a_10_mb_body_is_refused_with_413(api):
    before = stored_state(api)
    huge = b'{"candidates": [' + b" " * (10 * 1024 * 1024) + b"]}"
    got = api.call(
        "caseworker",
        "POST",
        "/v1/candidates/import",
        content=huge,
        headers={"content-type": "application/json"},
    )
    assert got.status_code == 413
    assert fields_of(got) == ["(body)"]
    assert stored_state(api) == before


def test_a_duplicate_id_is_a_conflict(api):
    body = candidate_body("DUP-1")
    assert api.call("caseworker", "POST", "/v1/candidates", json=body).status_code == 201
    got = api.call("caseworker", "POST", "/v1/candidates", json=body)
    assert got.status_code == 409 and got.headers["content-type"].startswith(PROBLEM)
    got = api.call("caseworker", "POST", "/v1/vacancies", json=vacancy_body("V001", OWN_EMPLOYER))
    assert got.status_code == 409


def test_unknown_routes_and_bad_query_values_are_problems(api):
    got = api.call("admin", "GET", "/v1/nothing")
    assert got.status_code == 404 and got.headers["content-type"].startswith(PROBLEM)
    got = api.call("admin", "GET", "/v1/vacancies/V001/shortlist?top_k=0")
    assert got.status_code == 422 and fields_of(got) == ["query.top_k"]
    got = api.call("admin", "GET", "/v1/vacancies/V001/shortlist?lang=fr")
    assert got.status_code == 422 and fields_of(got) == ["query.lang"]


def test_candidate_skills_are_normalised_when_written_and_corrected_by_update(api):
    created = api.call("caseworker", "POST", "/v1/candidates", json=candidate_body("N-1")).json()
    assert created["skills_normalised"][0]["text"] == "soldadura"
    assert created["skills_normalised"][0]["uri"].startswith("http://data.europa.eu/esco/")
    body = {"skills": ["empalme de fibra optica"], "region": "Lima", "name": "Ana Corregida"}
    updated = api.call("caseworker", "PUT", "/v1/candidates/N-1", json=body).json()
    assert updated["name"] == "Ana Corregida"
    assert updated["skills_normalised"][0]["label_en"] == "splice cable"


def test_import_is_an_upsert_so_a_rerun_adds_no_duplicates(api):
    batch = {"candidates": [candidate_body(f"IMP-{i}") for i in range(5)]}
    first = api.call("caseworker", "POST", "/v1/candidates/import", json=batch).json()
    again = api.call("caseworker", "POST", "/v1/candidates/import", json=batch).json()
    assert (first["created"], first["updated"]) == (5, 0)
    assert (again["created"], again["updated"]) == (0, 5)
    ids = [c["id"] for c in api.call("admin", "GET", "/v1/candidates?limit=500").json()]
    assert len(ids) == len(set(ids))


def test_erasure_removes_personal_data_and_keeps_an_anonymised_audit_trail(api):
    staff = "caseworker"
    body = candidate_body("ERASE-ME") | {
        "name": "Rosa Erasable",
        "phone": "+51 900 000 111",
        "email": "rosa@example.org",
        "gender": "F",
        "birth_year": 1990,
        "skills": ["empalme de fibra óptica", "inspección de cables"],
        "certifications": ["SCTR", "Trabajos en altura"],
        "consent_to_share": True,
    }
    assert api.call(staff, "POST", "/v1/candidates", json=body).status_code == 201
    listed = api.call(staff, "GET", "/v1/vacancies/V001/shortlist?top_k=50").json()
    assert "ERASE-ME" in [i["candidate_id"] for i in listed["items"]]

    got = api.call(staff, "DELETE", "/v1/candidates/ERASE-ME")
    assert got.status_code == 200 and got.json()["erased"] is True
    assert api.call(staff, "GET", "/v1/candidates/ERASE-ME").status_code == 404
    assert api.call(staff, "DELETE", "/v1/candidates/ERASE-ME").status_code == 404
    assert api.call(staff, "POST", "/v1/candidates", json=body).status_code == 409
    listed = api.call(staff, "GET", "/v1/vacancies/V001/shortlist?top_k=50").json()
    assert "ERASE-ME" not in [i["candidate_id"] for i in listed["items"]]

    service = api.client.app.state.service
    with service.reading() as session:
        row = session.get(CandidateRow, "ERASE-ME")
        assert row.erased and row.profile == {} and row.skills_normalised == []
        assert (row.name, row.phone, row.email, row.gender, row.birth_year) == (None,) * 5
        trail = session.scalars(select(AuditRecord).where(AuditRecord.vacancy_id == "V001")).all()
        assert any("ERASE-ME" in [r["id"] for r in a.results] for a in trail)
        assert all("Rosa" not in str(a.results) for a in trail)


def test_every_shortlist_and_matches_request_is_audited(api):
    before = len(api.call("admin", "GET", "/v1/audit?limit=1000").json())
    short = api.call("employer", "GET", "/v1/vacancies/V010/shortlist?top_k=4&lang=en").json()
    match = api.call("caseworker", "GET", "/v1/candidates/R0002/matches?top_k=3").json()
    audit = api.call("admin", "GET", "/v1/audit?limit=1000").json()
    assert len(audit) == before + 2
    newest, previous = audit[0], audit[1]
    assert newest["action"] == "matches" and newest["candidate_id"] == "R0002"
    assert [r["id"] for r in newest["results"]] == [i["vacancy_id"] for i in match["items"]]
    assert previous["action"] == "shortlist" and previous["vacancy_id"] == "V010"
    assert previous["role"] == "employer"
    assert [r["score"] for r in previous["results"]] == [
        round(i["score"], 6) for i in short["items"]
    ]
    assert previous["model_version"] == short["model_version"]
    assert previous["taxonomy_version"] == short["taxonomy_version"]
    assert short["items"][0]["explanation"].startswith("Match")


def test_placements_and_followups_export_as_csv_without_personal_data(api):
    staff = "caseworker"
    body = candidate_body("HIRED-1") | {"name": "Luis Contratado", "phone": "+51 999"}
    assert api.call(staff, "POST", "/v1/candidates", json=body).status_code == 201
    placement = {
        "candidate_id": "HIRED-1",
        "vacancy_id": "V003",
        "start_date": "2026-02-01",
        "monthly_wage_pen": 2200,
    }
    low = api.call(staff, "POST", "/v1/placements", json=placement | {"monthly_wage_pen": 900})
    assert low.status_code == 422 and fields_of(low) == ["monthly_wage_pen"]
    missing = api.call(staff, "POST", "/v1/placements", json=placement | {"vacancy_id": "NOPE"})
    assert missing.status_code == 404
    pid = api.call(staff, "POST", "/v1/placements", json=placement).json()["id"]
    visit = {
        "visit_date": "2026-05-01",
        "still_employed": True,
        "monthly_wage_pen": 2300,
        "satisfaction": 4,
        "economic_score": 0.7,
        "social_score": 0.6,
        "psychosocial_score": 0.8,
        "notes": "Adaptándose bien",
    }
    assert api.call(staff, "POST", f"/v1/placements/{pid}/followups", json=visit).status_code == 201
    bad = api.call(
        staff, "POST", f"/v1/placements/{pid}/followups", json=visit | {"satisfaction": 6}
    )
    assert bad.status_code == 422 and fields_of(bad) == ["satisfaction"]
    early = api.call(
        staff, "POST", f"/v1/placements/{pid}/followups", json=visit | {"visit_date": "2026-01-01"}
    )
    assert early.status_code == 422 and fields_of(early) == ["visit_date"]
    assert api.call(staff, "POST", "/v1/placements/nope/followups", json=visit).status_code == 404

    got = api.call("admin", "GET", "/v1/placements/export")
    assert got.headers["content-type"].startswith("text/csv")
    rows = [r for r in csv.DictReader(io.StringIO(got.text)) if r["placement_id"] == pid]
    assert len(rows) == 1
    assert rows[0]["candidate_id"] == "HIRED-1" and rows[0]["satisfaction"] == "4"
    assert rows[0]["psychosocial_score"] == "0.8" and rows[0]["still_employed"] == "1"
    assert "Luis" not in got.text and "+51" not in got.text


def test_health_and_readiness(api):
    assert api.client.get("/healthz").json() == {"status": "ok"}
    assert api.client.get("/readyz").json() == {"status": "ready"}


def test_openapi_is_served(api):
    spec = api.client.get("/openapi.json").json()
    assert "/v1/vacancies/{vacancy_id}/shortlist" in spec["paths"]
    assert api.client.get("/docs").status_code == 200
