from __future__ import annotations

import pytest

from matcher.certifications import certification_key, holds_certification
from matcher.exceptions import ValidationError
from matcher.io import load_regions
from matcher.profiles import parse_candidates, parse_vacancies


def test_every_problem_of_every_record_is_reported_at_once():
    with pytest.raises(ValidationError) as exc:
        parse_vacancies(
            [
                {"id": "V1", "employer_id": "E", "title": "x", "openings": 0, "sector": "mining"},
                {"id": "V1", "title": "y", "openings": 1.5, "monthly_wage_pen": -10},
                {
                    "id": "V3",
                    "employer_id": "E",
                    "title": "z",
                    "required_skills": [{"text": "a", "min_years": -1}],
                },
            ]
        )
    got = {(p.line, p.field) for p in exc.value.problems}
    assert got == {
        (1, "openings"),
        (1, "sector"),
        (2, "id"),
        (2, "employer_id"),
        (2, "openings"),
        (2, "monthly_wage_pen"),
        (3, "required_skills[0].min_years"),
    }
    assert "openings" in str(exc.value) and "line 2 (V1)" in str(exc.value)


def test_types_are_checked_and_csv_strings_accepted():
    c = parse_candidates(
        [
            {
                "id": "R1",
                "skills": "soldadura; OTDR ;",
                "willing_to_relocate": "sí",
                "experience_years": "2,5",
                "languages": "es;QU",
            }
        ]
    )[0]
    assert [s.text for s in c.skills] == ["soldadura", "OTDR"]
    assert (
        c.willing_to_relocate is True and c.experience_years == 2.5 and c.languages == ("es", "qu")
    )
    with pytest.raises(ValidationError, match="expected true or false"):
        parse_candidates([{"id": "R1", "consent_to_share": "maybe"}])
    with pytest.raises(ValidationError, match="ISO 639-1"):
        parse_candidates([{"id": "R1", "languages": ["spanish"]}])


def test_personal_and_audit_fields_are_kept_but_out_of_repr():
    c = parse_candidates(
        [
            {
                "id": "R1",
                "name": "Ana Quispe",
                "email": "a@example.org",
                "gender": "F",
                "birth_year": 1990,
            }
        ]
    )[0]
    assert c.name == "Ana Quispe" and c.gender == "F" and c.birth_year == 1990
    assert "Ana" not in repr(c) and "1990" not in repr(c)


@pytest.mark.parametrize(
    ("required", "held", "ok"),
    [
        ("SCTR", ["SCTR vigente"], True),
        ("SCTR", ["Seguro SCTR"], True),
        ("Trabajos en altura", ["Curso de trabajos en altura (8h)"], True),
        ("Trabajos en altura", ["trabajos en altrua"], True),
        ("Licencia de conducir A-IIb", ["Licencia de conducir A-IIIb"], False),
        ("Licencia de conducir A-IIb", ["licencia de conducir a-iib"], True),
        ("GWO Basic Safety Training", ["Primeros auxilios"], False),
    ],
)
def test_certifications_match_as_people_write_them(required, held, ok):
    assert (
        holds_certification(certification_key(required), [certification_key(h) for h in held]) is ok
    )


def test_regions_know_peru_departments_aliases_and_distances():
    regions = load_regions()
    assert len(regions.names) == 25
    assert regions.code("JUNIN") == regions.code("Junín") >= 0
    assert regions.code("Cuzco") == regions.code("Cusco")
    lima, arequipa = regions.code("Lima"), regions.code("Arequipa")
    assert 700 < regions.distance_km[lima, arequipa] < 800
    assert regions.code("Madrid") == -1
