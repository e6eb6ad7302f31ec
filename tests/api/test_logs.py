"""Personal data never reaches the server's logs: a full demo run, logged at DEBUG, is checked."""

from __future__ import annotations

import pytest

from api.demo import run
from tests.api.conftest import demo_records

pytestmark = pytest.mark.slow


def test_a_full_demo_run_logs_no_names_or_contacts(tmp_path, capsys):
    assert run(out_dir=tmp_path, log_level="DEBUG", top_k=5) == 0
    printed = capsys.readouterr().out
    log = (tmp_path / "demo_server.log").read_text("utf-8")
    assert "POST /v1/candidates/import 200" in log, "the log should show the requests"
    assert "GET /v1/vacancies/V010/shortlist 200" in log
    personal = set()
    for cand in demo_records("candidates"):
        personal |= {cand[k] for k in ("name", "phone", "email") if cand.get(k)}
    leaked = sorted(p for p in personal if p in log)
    assert not leaked, f"personal data in the server log: {leaked[:5]}"
    # The demo itself shows identities to the caseworker (its stdout), never in the log.
    assert any(p in printed for p in personal)
