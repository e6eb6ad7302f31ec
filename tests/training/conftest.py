"""The synthetic outcome history, labelled and trained on once per session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def history():
    from fixtures.outcomes.generate import HERE
    from training.datasets import load_history

    return load_history(HERE / "outcomes.csv")


@pytest.fixture(scope="session")
def dataset(engine, history):
    from fixtures.outcomes.generate import AS_OF
    from training.datasets import build_dataset

    outcomes, cands, vacs = history
    return build_dataset(engine, outcomes, cands, vacs, as_of=AS_OF)


@pytest.fixture(scope="session")
def trained(dataset):
    from training.train import train

    return train(dataset)


@pytest.fixture(scope="session")
def report(engine, history, dataset, trained):
    from fixtures.outcomes.generate import judge
    from training.evaluate import evaluate_training

    _, cands, vacs = history
    return evaluate_training(
        trained, dataset, engine=engine, candidates=cands, vacancies=vacs, judge=judge, n_boot=60
    )
