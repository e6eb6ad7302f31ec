"""Every backend gives the single-process results: shortlists, matches and cohorts.

The same assertions run on the local backend (in-process and with a process pool),
on a 2-worker ``LocalCluster`` and on a scheduler and workers started as separate
processes; parity tests compare ids and scores exactly (scores to 1e-9).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from matcher.backends import (
    EngineSpec,
    ExecutionBackend,
    LocalBackend,
    MemoryPartition,
    memory_partitions,
)
from matcher.batch import best_matches, shortlist_result, shortlist_top
from matcher.cohort import CohortOptions, select_cohort
from matcher.io import read_candidates, read_vacancies, scan_candidates

TOP_K = 7


@pytest.fixture(scope="module")
def demo(inputs, engine):
    vacancies = read_vacancies(inputs / "vacancies.jsonl")
    candidates = read_candidates(inputs / "candidates.jsonl")
    source = scan_candidates(inputs / "candidates.jsonl", rows_per_partition=40)
    return vacancies, candidates, source, engine.encode_vacancies(vacancies)


@pytest.fixture(scope="module")
def expected(engine, demo):
    """The single-process answers every backend must reproduce."""
    vacancies, candidates, _, _ = demo
    top = shortlist_top(engine, vacancies, [candidates], top_k=TOP_K)
    matches = pd.concat(best_matches(engine, vacancies, [candidates], top_k=3), ignore_index=True)
    return top, matches


ALL = ["local", "local-2-processes", "dask-local-cluster", "dask-processes"]


@pytest.fixture(params=ALL)
def backend(request):
    """Each backend, as a user would open it; the Dask ones on the session's clusters."""
    if request.param == "local":
        yield LocalBackend()
    elif request.param == "local-2-processes":
        with LocalBackend(workers=2) as pool:
            yield pool
    else:
        from matcher.backends.dask import DaskBackend

        if request.param == "dask-local-cluster":
            yield DaskBackend(client=request.getfixturevalue("dask_client"))
        else:
            with DaskBackend(request.getfixturevalue("scheduler_address"), timeout=30) as dask:
                yield dask


def assert_same_shortlists(got, want):
    assert list(got) == list(want)
    for vid, pairs in want.items():
        assert [c for c, _ in got[vid]] == [c for c, _ in pairs], vid
        np.testing.assert_allclose(
            [s for _, s in got[vid]], [s for _, s in pairs], rtol=0, atol=1e-9
        )


def test_shortlists_equal_the_single_process_ones(backend, demo, expected):
    _, _, source, vb = demo
    assert len(source.partitions) == 8  # 300 candidates in partitions of 40: merged in any order
    acc = backend.shortlist_top(EngineSpec(), vb, source.partitions, top_k=TOP_K)
    assert_same_shortlists(shortlist_result(acc, vb), expected[0])
    assert sum(len(p) for p in expected[0].values()) > 3 * len(vb)  # real, non-empty lists


@pytest.mark.parametrize("backend", ["local", "dask-local-cluster"], indirect=True)
def test_matches_partitions_concatenate_to_the_single_process_table(backend, demo, expected):
    _, _, source, vb = demo
    frames = dict(backend.matches(EngineSpec(), vb, source.partitions, top_k=3, lang="es"))
    assert sorted(frames) == [p.index for p in source.partitions]
    table = pd.concat([frames[i] for i in sorted(frames)], ignore_index=True)
    pd.testing.assert_frame_equal(table, expected[1])


@pytest.mark.parametrize("backend", ["local", "dask-local-cluster"], indirect=True)
def test_in_memory_partitions_and_a_shipped_engine_give_the_same(backend, engine, demo, expected):
    _, candidates, _, vb = demo
    parts = memory_partitions(candidates, 130)
    assert [p.length for p in parts] == [130, 130, 40]
    acc = backend.shortlist_top(engine, vb, parts, top_k=TOP_K)
    assert_same_shortlists(shortlist_result(acc, vb), expected[0])


@pytest.mark.parametrize("backend", ["local", "dask-local-cluster"], indirect=True)
def test_cohort_is_the_same_on_every_backend(backend, engine, demo):
    vacancies, candidates, source, _ = demo
    options = CohortOptions(
        min_score=0.3,
        fairness_attribute="gender",
        min_impact_ratio=0.8,
        locked=((candidates[201].id, vacancies[0].id),),
    )
    eligible = engine.score(
        engine.encode_candidates([candidates[201]]), engine.encode_vacancies(vacancies[:1])
    ).eligible
    if not eligible[0, 0]:
        options = CohortOptions(min_score=0.3, fairness_attribute="gender", min_impact_ratio=0.8)
    want = select_cohort(engine, candidates, vacancies, options)
    got = select_cohort(
        engine,
        candidates,
        vacancies,
        options,
        backend=backend,
        partitions=source.partitions,
        engine_spec=EngineSpec(),
    )
    for name in ("assignments", "waitlist", "fairness", "training_plan", "vacancies"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(want, name), check_exact=True)
    assert got.histograms == want.histograms
    timing = {"seconds", "score_seconds", "solve_seconds"}
    assert {k: v for k, v in got.summary.items() if k not in timing} == {
        k: v for k, v in want.summary.items() if k not in timing
    }
    assert len(got.assignments) > 10


@pytest.mark.parametrize("backend", ["local", "dask-local-cluster"], indirect=True)
def test_a_failing_lock_is_reported_from_whichever_partition_holds_it(backend, engine, demo):
    from matcher.exceptions import ConfigError

    vacancies, candidates, source, _ = demo
    scored = engine.score(
        engine.encode_candidates(candidates[250:]), engine.encode_vacancies(vacancies)
    )
    i, j = (int(k[0]) for k in np.nonzero(~scored.eligible))
    options = CohortOptions(locked=((candidates[250 + i].id, vacancies[j].id),))
    with pytest.raises(ConfigError, match="hard constraint"):
        select_cohort(
            engine, candidates, vacancies, options, backend=backend, partitions=source.partitions
        )


def test_a_subclass_cannot_override_the_final_methods():
    with pytest.raises(TypeError, match="final"):

        class Sneaky(LocalBackend):
            def shortlist_top(self, *args, **kwargs):  # type: ignore[override]
                return None


def test_the_base_class_opens_nothing_and_asks_for_the_hooks():
    with pytest.raises(TypeError, match="abstract"):
        ExecutionBackend()  # type: ignore[abstract]

    class Recording(ExecutionBackend):
        """A whole backend in a few lines: the hooks are all it takes."""

        def __init__(self):
            self.scattered = []

        def scatter(self, value):
            self.scattered.append(type(value).__name__)
            return value

        def map_partitions(self, func, items, /, **shared):
            for position in reversed(range(len(items))):  # any order must do
                yield position, func(items[position], **shared)

    backend = Recording()
    assert vars(backend) == {"scattered": []}
    parts = [MemoryPartition(0, 0, ()), MemoryPartition(1, 0, ())]
    results = list(
        backend.run_partitions(
            lambda engine, vb, cands, *, k: (len(cands), k), None, [], parts, k=3
        )
    )
    assert results == [(1, (0, 3)), (0, (0, 3))]
    assert backend.scattered == ["NoneType", "list"]  # engine and vacancies: once each


def test_engine_spec_builds_one_engine_per_process_and_key():
    spec = EngineSpec()
    assert spec.build() is EngineSpec().build()
    assert EngineSpec(taxonomy=None, model=None) == spec and hash(spec) == hash(EngineSpec())
