"""Property-based tests from the app's own OpenAPI (schemathesis): no 500, no response that
breaks its schema, every documented status. Bounded in examples and time."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi import checks

from api.main import create_app
from api.settings import Settings
from tests.api.conftest import demo_records

# A valid-by-schema body may still break a domain rule (a wage under the legal minimum, an id
# that does not exist), which the API rightly answers with 404/409/422: that check is left out.
EXCLUDED = [checks.positive_data_acceptance]


@pytest.fixture(scope="module")
def st_app(engine, tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('schema') / 'st.db'}"
    app = create_app(Settings(database_url=url, log_level="WARNING"), engine=engine)
    return app


@pytest.fixture(scope="module")
def st_schema(st_app):
    return schemathesis.openapi.from_asgi("/openapi.json", st_app)


@pytest.fixture(scope="module")
def admin_headers(st_schema, st_app):
    # The schema load above started the app's lifespan; add a user and a little data.
    service = st_app.state.service
    key = service.create_user(name="schema", role="admin", employer_id=None)[1]
    from api.auth import Principal

    admin = Principal("schema", "schema", "admin")
    for vac in demo_records("vacancies", 3):
        service.create_vacancy(admin, vac)
    service.import_candidates(admin, demo_records("candidates", 10))
    return {"Authorization": f"Bearer {key}"}


def _operations() -> list[tuple[str, str]]:
    spec = create_app(Settings(database_url="sqlite://")).openapi()
    methods = {"get", "post", "put", "delete"}
    return [(m.upper(), p) for p, item in spec["paths"].items() for m in item if m in methods]


@pytest.mark.parametrize(("method", "path"), _operations())
def test_the_api_keeps_its_own_schema(method, path, st_schema, admin_headers):
    operation = st_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=10,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case):
        case.call_and_validate(headers=admin_headers, excluded_checks=EXCLUDED)

    run()
