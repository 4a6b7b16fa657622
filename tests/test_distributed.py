"""Cross-validation beyond one machine: the folds go to a dask.distributed cluster through
joblib's dask backend, and the scores are exactly those of the local, serial run.

The cluster is a LocalCluster of two worker processes started by the test: the same code
runs on a real cluster with Client("scheduler-address:8786") instead (README.md)."""

import os
import re
import sys

import numpy as np
import pytest
from helpers import HANG_SECONDS

import pynn
from pynn.data import cross_validate, grid_search

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")
cloudpickle = pytest.importorskip("cloudpickle")

# The workers cannot import this test module: send its functions by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

FIT_PARAMS = {
    "loss": "softmax_cross_entropy",
    "optimizer": pynn.Adam(lr=0.05),
    "epochs": 8,
    "batch_size": 16,
}


def process_id(model, X, y):
    """A scorer that reports the process the fold ran in."""
    return float(os.getpid())


def make_model(hidden=8):
    return pynn.Sequential(
        pynn.Dense(3, hidden, activation="tanh"), pynn.Dense(hidden, 3), random_state=0
    )


@pytest.fixture(scope="module")
def client():
    # dask's own timeouts (30 s to connect, or for a quiet connection) would fail a run on a
    # loaded machine where two worker interpreters start slowly: here they only catch hangs
    # (the workers inherit this configuration from the nanny).
    timeouts = {
        "distributed.comm.timeouts.connect": f"{HANG_SECONDS}s",
        "distributed.comm.timeouts.tcp": f"{HANG_SECONDS}s",
    }
    with dask.config.set(timeouts):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
        with distributed.Client(cluster) as client:
            yield client
        cluster.close()


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((240, 3))
    y = np.array(["a", "b", "c"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)]
    return X, y


def test_cross_validate_on_a_cluster_equals_the_local_run(client, data):
    X, y = data
    local = cross_validate(make_model, X, y, cv=4, fit_params=FIT_PARAMS, return_train_score=True)
    with joblib.parallel_backend("dask"):
        remote = cross_validate(
            make_model, X, y, cv=4, fit_params=FIT_PARAMS, n_jobs=2, return_train_score=True
        )
    np.testing.assert_array_equal(remote["test_score"], local["test_score"])
    np.testing.assert_array_equal(remote["train_score"], local["train_score"])
    assert local["test_score"].min() > 0.8  # the folds really learned the classes
    with joblib.parallel_backend("dask"):
        where = cross_validate(
            make_model, X, y, cv=4, fit_params=FIT_PARAMS, n_jobs=2, scoring=process_id
        )
    workers = set(client.run(os.getpid).values())
    assert set(where["test_score"].astype(int)) <= workers and os.getpid() not in workers


def test_grid_search_on_a_cluster_equals_the_local_run(client, data):
    X, y = data
    grid = {"hidden": [2, 8]}
    local = grid_search(make_model, grid, X, y, cv=3, fit_params=FIT_PARAMS)
    with joblib.parallel_backend("dask"):
        remote = grid_search(make_model, grid, X, y, cv=3, fit_params=FIT_PARAMS, n_jobs=2)
    assert remote.best_params_ == local.best_params_
    for mine, theirs in zip(remote.results_, local.results_):
        np.testing.assert_array_equal(mine["test_scores"], theirs["test_scores"])


def test_the_readme_cluster_example_runs_on_a_local_cluster(client):
    """README.md's 'Select a model' example, then its dask block with the cluster address
    replaced by this test's LocalCluster: the cluster's scores are the local ones."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    select = re.search(r"## Select a model\n\n```python\n(.*?)```", readme, re.S).group(1)
    cluster = re.search(r"```\n(import joblib\n.*?)```", readme, re.S).group(1)
    address = 'Client("tcp://scheduler-host:8786")'
    assert address in cluster
    namespace = {}
    exec(compile(select, "README.md select-a-model example", "exec"), namespace)
    local = namespace["scores"]["test_score"].copy()
    namespace["LOCAL_CLUSTER"] = client.cluster
    cluster = cluster.replace(address, "Client(LOCAL_CLUSTER)")
    exec(compile(cluster, "README.md dask example", "exec"), namespace)
    np.testing.assert_array_equal(namespace["scores"]["test_score"], local)
