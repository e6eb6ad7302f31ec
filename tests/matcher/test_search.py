"""The pruned search gives exactly the exhaustive shortlists, while scoring few pairs."""

from __future__ import annotations

import numpy as np
import pytest

from matcher import search
from matcher.engine import MatchEngine
from matcher.features import CandidateBatch, pair_features, pair_features_at, skill_sums
from matcher.ranking import TopK
from matcher.search import SearchStats, top_candidates


def exhaustive(engine: MatchEngine, cb: CandidateBatch, vb, k: int) -> TopK:
    acc = TopK(len(vb), k)
    for lo in range(0, len(cb), 500):
        part = cb.rows(slice(lo, lo + 500))
        scored = engine.score(part, vb)
        acc.update(scored.scores, part.ids, scored.eligible)
    return acc


def assert_same(got: TopK, want: TopK, m: int) -> None:
    for j in range(m):
        g, w = got.result(j), want.result(j)
        assert [c for c, _ in g] == [c for c, _ in w], j
        np.testing.assert_allclose([s for _, s in g], [s for _, s in w], rtol=0, atol=1e-9)


@pytest.fixture(scope="module")
def demo(engine, demo_candidates, demo_vacancies):
    return engine.encode_candidates(demo_candidates), engine.encode_vacancies(demo_vacancies)


@pytest.fixture(scope="module")
def population(engine):
    from bench.population import generate

    cands, vacs = generate(engine.taxonomy, n_candidates=3000, n_vacancies=150, random_state=7)
    return engine.encode_candidates(cands), engine.encode_vacancies(vacs)


@pytest.fixture(
    params=[(4, 3, 2), (16, 8, 16), (32, 64, 1)],
    ids=lambda p: f"block{p[0]}-group{p[1]}-super{p[2]}",
)
def sizes(request, monkeypatch):
    """Small blocks, groups and superblocks make every phase of the search run on small
    data."""
    block, group, blocks_per_super = request.param
    monkeypatch.setattr(search, "BLOCK_SIZE", block)
    monkeypatch.setattr(search, "GROUP_SIZE", group)
    monkeypatch.setattr(search, "SUPER_BLOCKS", blocks_per_super)
    return request.param


@pytest.mark.parametrize("k", [1, 7, 40])
def test_demo_shortlists_equal_the_exhaustive_ones(engine, demo, sizes, k):
    # The demo has certifications, languages, years asked for and description skills.
    cb, vb = demo
    assert_same(top_candidates(engine, cb, vb, top_k=k), exhaustive(engine, cb, vb, k), len(vb))


def test_generated_population_equal_and_mostly_pruned(engine, population):
    cb, vb = population
    stats = SearchStats()
    got = top_candidates(engine, cb, vb, top_k=10, stats=stats, n_threads=2)
    assert_same(got, exhaustive(engine, cb, vb, 10), len(vb))
    assert stats.pairs == len(cb) * len(vb)
    assert stats.pruned_share > 0.8  # the point of it: most pairs never scored


_FORKED_RUN = """
import numpy as np
from bench.population import generate
from matcher import search
from matcher.io import load_engine
from matcher.ranking import TopK

engine = load_engine()
cands, vacs = generate(engine.taxonomy, n_candidates=3000, n_vacancies=150, random_state=7)
cb, vb = engine.encode_candidates(cands), engine.encode_vacancies(vacs)
forked = []
real = search._forked
search._forked = lambda *a: forked.append(1) or real(*a)
stats = search.SearchStats()
got = search.top_candidates(engine, cb, vb, top_k=10, n_threads=2, stats=stats)
want = TopK(len(vb), 10)
scored = engine.score(cb, vb)
want.update(scored.scores, cb.ids, scored.eligible)
for j in range(len(vb)):
    g, w = got.result(j), want.result(j)
    assert [c for c, _ in g] == [c for c, _ in w], j
    assert np.allclose([s for _, s in g], [s for _, s in w], rtol=0, atol=1e-9), j
assert stats.scored > 0 and stats.swept_rows > 0
print("forked" if forked else "threads")
"""


def test_groups_searched_in_forked_processes_give_the_exhaustive_result():
    """In a fresh single-threaded process (as the CLI runs) the groups go to forked
    workers; their shortlists and counts come back whole. A subprocess, because this
    test process may hold other libraries' threads, and then the search must not fork."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    run = subprocess.run(
        [sys.executable, "-c", _FORKED_RUN], cwd=root, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "forked"


_DYING_WORKER = """
import os
from concurrent.futures.process import BrokenProcessPool
from bench.population import generate
from matcher import search
from matcher.io import load_engine

engine = load_engine()
cands, vacs = generate(engine.taxonomy, n_candidates=600, n_vacancies=150, random_state=7)
cb, vb = engine.encode_candidates(cands), engine.encode_vacancies(vacs)
parent = os.getpid()
real = search._search_group
def dying(*args):
    if os.getpid() != parent:
        os._exit(3)  # as a worker killed for lack of memory
    return real(*args)
search._search_group = dying
try:
    search.top_candidates(engine, cb, vb, top_k=10, n_threads=2)
except BrokenProcessPool:
    print("broken")
"""


def test_a_worker_that_dies_fails_the_search_instead_of_hanging_it():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    run = subprocess.run(
        [sys.executable, "-c", _DYING_WORKER], cwd=root, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "broken"


def test_groups_searched_in_threads_give_the_exhaustive_result(engine, population, monkeypatch):
    cb, vb = population
    monkeypatch.setattr(search, "PROCESSES", False)
    monkeypatch.setattr(search, "_forked", lambda *a: pytest.fail("forked"))
    stats = SearchStats()
    got = top_candidates(engine, cb, vb, top_k=10, n_threads=2, stats=stats)
    assert_same(got, exhaustive(engine, cb, vb, 10), len(vb))
    assert stats.scored > 0 and stats.swept_rows > 0


def test_never_forks_beside_another_thread():
    """A fork copies only the calling thread: a lock another thread holds would stay
    held in the child. With a second thread alive the search must use threads."""
    import threading

    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not search._can_fork()
    finally:
        stop.set()
        other.join()


def test_partitions_with_floors_merge_to_the_exhaustive_result(engine, population, sizes):
    cb, vb = population
    acc = TopK(len(vb), 10)
    for lo in range(0, len(cb), 700):  # floors from earlier partitions prune later ones
        acc.merge(top_candidates(engine, cb.rows(slice(lo, lo + 700)), vb, top_k=10, floor=acc.kth))
    assert_same(acc, exhaustive(engine, cb, vb, 10), len(vb))


def test_ties_are_broken_by_id_as_in_the_exhaustive_path(engine, demo):
    # Three copies of every candidate under other ids: every score is tied three ways.
    cb, vb = demo
    copies = []
    for tag in ("b", "a", "c"):
        twin = cb.take(np.arange(len(cb)))
        object.__setattr__(twin, "ids", tuple(f"{tag}{i}" for i in cb.ids))
        copies.append(twin)
    tied = CandidateBatch.concat(copies)
    assert_same(top_candidates(engine, tied, vb, top_k=5), exhaustive(engine, tied, vb, 5), len(vb))


def test_a_scorer_without_a_bound_takes_the_exhaustive_path(engine, demo):
    from matcher.config import FEATURES
    from matcher.learned import OutcomeScorer

    cb, vb = demo
    rng = np.random.default_rng(0)
    x = rng.random((200, len(FEATURES)))
    learnt = OutcomeScorer(C=1.0).fit(x, (x[:, 0] > 0.5).astype(int))
    other = MatchEngine(
        engine.taxonomy, regions=engine.regions, normaliser=engine.normaliser, scorer=learnt
    )
    stats = SearchStats()
    got = top_candidates(other, cb, vb, top_k=5, stats=stats)
    assert stats.scored == stats.pairs
    assert_same(got, exhaustive(other, cb, vb, 5), len(vb))


def test_pair_features_equal_the_grid_to_the_last_bit(engine, demo):
    cb, vb = demo
    grid = pair_features(cb, vb, engine.regions, engine.config)
    n, m = len(cb), len(vb)
    rng = np.random.default_rng(1)
    rows, cols = rng.integers(0, n, 2000), rng.integers(0, m, 2000)
    pairs = pair_features_at(cb, vb, rows, cols, engine.regions, engine.config)
    for name, values in grid.columns.items():
        want = np.broadcast_to(values, (n, m))[rows, cols]
        assert np.array_equal(np.broadcast_to(pairs.columns[name], want.shape), want), name
    assert np.array_equal(pairs.filtered, grid.filtered[rows, cols])


def test_the_score_never_exceeds_its_bound(engine, demo):
    cb, vb = demo
    scored = engine.score(cb, vb)
    w_req, w_opt, w_prof, w_title = search._bound_weights(engine, vb)
    req, opt, prof, fit = skill_sums(cb, vb, np.arange(len(cb)), np.arange(len(vb)))
    explicit, implicit = req * w_req + opt * w_opt, prof * w_prof + fit * w_title
    bound = engine.scorer.match_bound(explicit, implicit)
    assert (scored.scores <= bound + 1e-12).all()
    assert (bound > scored.scores + 0.05).any()  # a bound, not the score itself
    # Far tighter than the plain sum of its parts where both are high.
    assert (bound <= explicit + implicit + 1e-12).all()
    assert (explicit + implicit - bound > 0.1).any()


def test_a_group_gathers_the_exhaustive_skill_sums_to_the_last_bit(engine, demo):
    """The search reads only the columns a group of vacancies asks for, and one profile
    per occupation: the sums must be the very numbers every other path computes."""
    cb, vb = demo
    assert vb.required_years, "the demo asks for years of some skills"
    group_index = np.arange(0, len(vb), 2)
    order, fits = search._order(engine, cb.skills, cb.titles)
    columns = search._Columns.of(cb, order, fits)
    group = search._Group(
        vb, group_index, search._bound_weights(engine, vb), engine.scorer.match_bound, columns
    )
    positions = np.r_[0:7, 12 : len(cb)]  # two runs of the search order
    scan = group.scan(positions)
    got = group.sums(cb, scan, np.arange(len(positions)))
    want = skill_sums(cb, vb, scan.rows, group_index)
    for name, g, w in zip(("required", "optional", "profile", "title"), got, want):
        assert np.array_equal(g, w), name
    assert np.array_equal(np.sort(scan.rows), np.sort(order[positions]))


def test_explained_shortlists_do_not_depend_on_the_explanation_block(
    engine, demo_candidates, demo_vacancies, monkeypatch
):
    from matcher import batch

    top = batch.shortlist_top(engine, demo_vacancies, [demo_candidates], top_k=5)
    whole = batch.shortlist_table(engine, demo_vacancies, top, demo_candidates)
    monkeypatch.setattr(batch, "EXPLAIN_VACANCIES", 3)
    blocks = batch.shortlist_table(engine, demo_vacancies, top, demo_candidates)
    assert len(whole) == sum(len(p) for p in top.values())
    assert whole.equals(blocks)


def test_pairs_the_location_filter_rules_out_are_never_scored(engine, population, monkeypatch):
    """Another known region, no relocation, no remote work: such a pair can never be
    eligible, so the search must not spend an exact score on it (and still be exact)."""
    from matcher.features import location_blocked

    cb, vb = population
    seen = []
    real = search._score_pairs

    def spy(engine, cands, vacs, group, scan, at, cols, *rest):
        seen.append((scan.rows[at], group.index[cols]))
        return real(engine, cands, vacs, group, scan, at, cols, *rest)

    monkeypatch.setattr(search, "_score_pairs", spy)
    got = top_candidates(engine, cb, vb, top_k=10)
    assert_same(got, exhaustive(engine, cb, vb, 10), len(vb))
    rows = np.concatenate([r for r, _ in seen])
    cols = np.concatenate([c for _, c in seen])
    assert len(rows) > 0
    blocked = location_blocked(cb.region[rows], vb.region[cols], cb.relocate[rows], vb.remote[cols])
    assert not blocked.any()
    # The population does hold such pairs: the test would see them if they were scored.
    grid = location_blocked(cb.region[:, None], vb.region[None, :], cb.relocate[:, None], vb.remote)
    assert grid.mean() > 0.2
