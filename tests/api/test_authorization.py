"""Every route x every caller: the status each one gets, and what an employer can never see."""

from __future__ import annotations

import pytest

from tests.api.conftest import OTHER_EMPLOYER, OWN_EMPLOYER

CALLERS = ("none", "wrong", "admin", "caseworker", "employer", "other_employer")
OWN_VACANCY = "V001"  # E-ENERTEL
CANDIDATE = "R0001"
MIXED_VACANCY = "V010"  # E-ENERTEL; its shortlist mixes consenting and non-consenting people


def vacancy_body(vid: str, employer: str) -> dict:
    return {
        "id": vid,
        "employer_id": employer,
        "title": "Técnico electricista",
        "sector": "energy",
        "required_skills": ["instalación eléctrica"],
        "region": "Lima",
        "openings": 2,
        "monthly_wage_pen": 2000,
    }


def candidate_body(cid: str) -> dict:
    return {"id": cid, "skills": ["soldadura"], "region": "Lima", "name": "Ana Prueba"}


def vacancy_update(employer: str) -> dict:
    body = vacancy_body("x", employer)
    del body["id"]
    return body


STAFF = {"admin", "caseworker"}


def expected(route: str, who: str) -> int:
    """The status ``who`` must get on ``route`` (on data it may or may not see)."""
    if who == "none" or who == "wrong":
        return 401
    ok = {
        "POST /v1/vacancies": 201,
        "POST /v1/candidates": 201,
        "POST /v1/placements": 201,
        "POST /v1/placements/{id}/followups": 201,
    }.get(route, 200)
    if route in ("GET /v1/audit",):
        return ok if who == "admin" else 403
    if route.startswith(("POST /v1/candidates", "GET /v1/candidates", "PUT /v1/candidates")):
        return ok if who in STAFF else 403
    if route.startswith(("DELETE /v1/candidates", "POST /v1/placements", "GET /v1/placements")):
        return ok if who in STAFF else 403
    if route == "POST /v1/vacancies" and who == "other_employer":
        return 422  # the body names another employer
    if route.startswith(
        ("GET /v1/vacancies/{id}", "PUT /v1/vacancies/{id}", "POST /v1/vacancies/{id}")
    ):
        return 404 if who == "other_employer" else ok
    if route == "PUT /v1/vacancies/{id}" and who == "other_employer":
        return 404
    return ok


def requests_for(who: str, n: int) -> list[tuple[str, str, str, dict]]:
    """(route, method, path, kwargs); ids unique per caller and backend so writes succeed."""
    vid = f"VM-{who}-{n}"
    cid = f"CM-{who}-{n}"
    return [
        ("GET /healthz", "GET", "/healthz", {}),
        ("POST /v1/vacancies", "POST", "/v1/vacancies", {"json": vacancy_body(vid, OWN_EMPLOYER)}),
        ("GET /v1/vacancies", "GET", "/v1/vacancies", {}),
        ("GET /v1/vacancies/{id}", "GET", f"/v1/vacancies/{OWN_VACANCY}", {}),
        (
            "PUT /v1/vacancies/{id}",
            "PUT",
            "/v1/vacancies/V002",
            {"json": vacancy_update(OWN_EMPLOYER) | {"title": f"Técnico {who}"}},
        ),
        (
            "GET /v1/vacancies/{id}/shortlist",
            "GET",
            f"/v1/vacancies/{OWN_VACANCY}/shortlist?top_k=3",
            {},
        ),
        ("POST /v1/candidates", "POST", "/v1/candidates", {"json": candidate_body(cid)}),
        (
            "POST /v1/candidates/import",
            "POST",
            "/v1/candidates/import",
            {"json": {"candidates": [candidate_body(cid + "b")]}},
        ),
        ("GET /v1/candidates", "GET", "/v1/candidates?limit=5", {}),
        ("GET /v1/candidates/{id}", "GET", f"/v1/candidates/{CANDIDATE}", {}),
        (
            "PUT /v1/candidates/{id}",
            "PUT",
            f"/v1/candidates/{CANDIDATE}",
            {"json": {"skills": ["soldadura", "IPERC"], "region": "Moquegua"}},
        ),
        (
            "GET /v1/candidates/{id}/matches",
            "GET",
            f"/v1/candidates/{CANDIDATE}/matches?top_k=3",
            {},
        ),
        (
            "POST /v1/skills/normalise",
            "POST",
            "/v1/skills/normalise",
            {"json": {"mentions": ["gasfitería"]}},
        ),
        (
            "POST /v1/skills/extract",
            "POST",
            "/v1/skills/extract",
            {"json": {"texts": ["empalme de fibra óptica"]}},
        ),
        ("GET /v1/placements/export", "GET", "/v1/placements/export", {}),
        ("GET /v1/audit", "GET", "/v1/audit?limit=5", {}),
    ]


@pytest.mark.parametrize("who", CALLERS)
def test_every_route_gives_each_caller_the_expected_status(api, who):
    results = {}
    for route, method, path, kwargs in requests_for(who, 1):
        got = api.call(who, method, path, **kwargs)
        want = 200 if route == "GET /healthz" else expected(route, who)
        results[route] = (got.status_code, want)
        if got.status_code >= 400:
            assert got.headers["content-type"].startswith("application/problem+json"), route
            assert got.json()["status"] == got.status_code
            assert got.json()["type"].startswith("urn:reintegra:problem:")
    wrong = {r: v for r, v in results.items() if v[0] != v[1]}
    assert not wrong, wrong


@pytest.mark.parametrize("who", CALLERS)
def test_placement_routes_by_role(api, who):
    staff = api.headers("caseworker")
    cid = f"PL-{who}"
    api.client.post("/v1/candidates", json=candidate_body(cid), headers=staff)
    placement = {
        "candidate_id": cid,
        "vacancy_id": OWN_VACANCY,
        "start_date": "2026-03-01",
        "monthly_wage_pen": 2300,
    }
    got = api.call(who, "POST", "/v1/placements", json=placement)
    want = 401 if who in ("none", "wrong") else 201 if who in STAFF else 403
    assert got.status_code == want, got.text
    pid = got.json()["id"] if got.status_code == 201 else None
    if pid is None:  # create one as staff to try the follow-up route
        pid = api.client.post("/v1/placements", json=placement, headers=staff).json()["id"]
    follow = {"visit_date": "2026-06-01", "still_employed": True, "satisfaction": 4}
    got = api.call(who, "POST", f"/v1/placements/{pid}/followups", json=follow)
    assert got.status_code == want, got.text


@pytest.mark.parametrize("who", CALLERS)
def test_erase_and_close_by_role(api, who):
    staff = api.headers("caseworker")
    cid = f"ER-{who}"
    assert (
        api.client.post("/v1/candidates", json=candidate_body(cid), headers=staff).status_code
        == 201
    )
    got = api.call(who, "DELETE", f"/v1/candidates/{cid}")
    assert got.status_code == (401 if who in ("none", "wrong") else 200 if who in STAFF else 403)

    vid = f"CL-{who}"
    assert (
        api.client.post(
            "/v1/vacancies", json=vacancy_body(vid, OWN_EMPLOYER), headers=staff
        ).status_code
        == 201
    )
    got = api.call(who, "POST", f"/v1/vacancies/{vid}/close")
    want = {"none": 401, "wrong": 401, "other_employer": 404}.get(who, 200)
    assert got.status_code == want


def test_an_employer_sees_only_its_own_vacancies(api):
    own = api.call("employer", "GET", "/v1/vacancies?limit=500").json()
    other = api.call("other_employer", "GET", "/v1/vacancies?limit=500").json()
    assert own and {v["employer_id"] for v in own} == {OWN_EMPLOYER}
    assert other and {v["employer_id"] for v in other} == {OTHER_EMPLOYER}
    other_ids = {v["id"] for v in other}
    for vid in other_ids:
        for path in (f"/v1/vacancies/{vid}", f"/v1/vacancies/{vid}/shortlist"):
            got = api.call("employer", "GET", path)
            assert got.status_code == 404
            assert got.json()["type"] == "urn:reintegra:problem:not_found"
        got = api.call("employer", "PUT", f"/v1/vacancies/{vid}", json=vacancy_update(OWN_EMPLOYER))
        assert got.status_code == 404
    # Not even the other employer's vacancy title leaks through an error.
    first = other[0]
    assert first["title"] not in api.call("employer", "GET", f"/v1/vacancies/{first['id']}").text


def test_an_employer_cannot_create_a_vacancy_for_another_employer(api):
    got = api.call("employer", "POST", "/v1/vacancies", json=vacancy_body("VX-9", OTHER_EMPLOYER))
    assert got.status_code == 422
    assert got.json()["errors"][0]["field"] == "employer_id"


def test_the_employer_shortlist_hides_identity_without_consent(api):
    url = f"/v1/vacancies/{MIXED_VACANCY}/shortlist?top_k=20"
    staff = api.call("caseworker", "GET", url).json()
    employer = api.call("employer", "GET", url).json()
    assert staff["items"], "the demo vacancy has candidates"
    assert [i["pseudonym"] for i in staff["items"]] == [i["pseudonym"] for i in employer["items"]]
    assert all(i["candidate_id"] and i.get("name") for i in staff["items"])
    consent = {i["pseudonym"]: i["consent_to_share"] for i in staff["items"]}
    assert set(consent.values()) == {True, False}, "demo data should mix consent"
    for item in employer["items"]:
        if consent[item["pseudonym"]]:
            assert item["candidate_id"] and item["name"]
        else:
            for key in ("candidate_id", "name", "phone", "email"):
                assert item.get(key) is None, key
        assert "gender" not in item and "birth_year" not in item
    names = {i["name"] for i in staff["items"] if not i["consent_to_share"]}
    text = api.call("employer", "GET", url).text
    assert not any(name in text for name in names)


def test_pseudonyms_are_stable(api):
    first = api.call("employer", "GET", f"/v1/vacancies/{OWN_VACANCY}/shortlist?top_k=5").json()
    again = api.call("employer", "GET", f"/v1/vacancies/{OWN_VACANCY}/shortlist?top_k=5").json()
    assert [i["pseudonym"] for i in first["items"]] == [i["pseudonym"] for i in again["items"]]
