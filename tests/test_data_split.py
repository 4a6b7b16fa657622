"""pynn.data.split: train_test_split, KFold, StratifiedKFold."""

import warnings

import numpy as np
import pytest

from pynn.data import KFold, StratifiedKFold, train_test_split
from pynn.data.split import split_sizes


def class_counts(labels, classes):
    labels = np.asarray(labels)
    return np.array([np.sum(labels == c) for c in classes])


# ---- train_test_split --------------------------------------------------------------------
@pytest.mark.parametrize(
    "n,test_size,train_size,expected",
    [
        (10, None, None, (7, 3)),  # 0.25 of 10 rounds up to 3
        (7, 0.25, None, (5, 2)),  # ceil(1.75) = 2
        (10, 0.3, None, (7, 3)),
        (10, None, 0.55, (5, 5)),  # floor(5.5) = 5 train, the rest test
        (10, 2, 5, (5, 2)),  # both given: 3 samples unused
        (10, 0.2, 0.5, (5, 2)),
        (10, 9, None, (1, 9)),
        (2, 0.5, None, (1, 1)),
    ],
)
def test_split_sizes(n, test_size, train_size, expected):
    assert split_sizes(n, test_size, train_size) == expected
    X = np.arange(n)
    train, test = train_test_split(X, test_size=test_size, train_size=train_size, random_state=0)
    assert (len(train), len(test)) == expected
    assert len(np.intersect1d(train, test)) == 0


def test_split_keeps_rows_together_and_partitions():
    X = np.arange(40).reshape(20, 2)
    y = np.arange(20) * 10
    w = [f"s{i}" for i in range(20)]
    X_tr, X_te, y_tr, y_te, w_tr, w_te = train_test_split(X, y, w, test_size=5, random_state=3)
    assert X_tr.shape == (15, 2) and X_te.shape == (5, 2)
    np.testing.assert_array_equal(X_tr[:, 0] * 5, y_tr)
    np.testing.assert_array_equal(X_te[:, 0] * 5, y_te)
    assert isinstance(w_tr, list) and w_tr == [f"s{v // 10}" for v in y_tr]
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == y.tolist()
    assert not np.array_equal(np.sort(y_te), y_te) or not np.array_equal(y_te, y[15:]), (
        "a shuffled split should not just take the last rows"
    )


def test_split_pandas_stays_pandas():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": range(8), "b": list("abcdefgh")}, index=range(100, 108))
    series = pd.Series(range(8), index=range(100, 108))
    f_tr, f_te, s_tr, s_te = train_test_split(frame, series, test_size=0.25, random_state=0)
    assert isinstance(f_tr, pd.DataFrame) and isinstance(s_te, pd.Series)
    assert list(f_tr.index) == list(s_tr.index) and len(f_te) == 2


def test_split_reproducible_by_seed_and_generator():
    X = np.arange(100)
    a = train_test_split(X, random_state=7)
    b = train_test_split(X, random_state=7)
    c = train_test_split(X, random_state=8)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    first, again = train_test_split(X, random_state=g1), train_test_split(X, random_state=g2)
    np.testing.assert_array_equal(first[1], again[1])
    # A Generator is drawn from: the next split from it is a different one.
    assert not np.array_equal(train_test_split(X, random_state=g1)[1], first[1])


def test_split_without_shuffle_is_in_order():
    X = np.arange(10)
    train, test = train_test_split(X, test_size=3, shuffle=False)
    np.testing.assert_array_equal(train, np.arange(7))
    np.testing.assert_array_equal(test, [7, 8, 9])
    train, test = train_test_split(X, test_size=2, train_size=5, shuffle=False)
    np.testing.assert_array_equal(train, np.arange(5))
    np.testing.assert_array_equal(test, [5, 6])


@pytest.mark.parametrize(
    "labels",
    [
        np.repeat([0, 1, 2], [50, 30, 20]),
        np.repeat(["cat", "dog"], [13, 7]),
        np.repeat([True, False], [9, 31]),
    ],
)
@pytest.mark.parametrize("test_size", [0.2, 0.33, 7])
def test_stratified_split_keeps_proportions(labels, test_size):
    rng = np.random.default_rng(0)
    labels = labels[rng.permutation(len(labels))]
    X = np.arange(len(labels))
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, labels, test_size=test_size, stratify=labels, random_state=1
    )
    np.testing.assert_array_equal(labels[X_te], y_te)
    classes = np.unique(labels)
    total = class_counts(labels, classes)
    for part in (y_tr, y_te):
        exact = total * len(part) / len(labels)
        assert np.all(np.abs(class_counts(part, classes) - exact) < 1), (
            class_counts(part, classes),
            exact,
        )
    np.testing.assert_array_equal(class_counts(y_tr, classes) + class_counts(y_te, classes), total)


def test_stratified_split_hand_counts_and_2d_labels():
    y = np.repeat([0, 1], [8, 4])  # 2:1
    _, y_te = train_test_split(y, test_size=3, stratify=y, random_state=0)
    np.testing.assert_array_equal(class_counts(y_te, [0, 1]), [2, 1])
    onehot = np.eye(2)[y]  # a row is one label
    _, y_te = train_test_split(onehot, test_size=6, stratify=onehot, random_state=0)
    np.testing.assert_array_equal(y_te.sum(axis=0), [4, 2])


def test_stratified_split_reproducible():
    y = np.repeat([0, 1, 2], 10)
    a = train_test_split(np.arange(30), stratify=y, random_state=4)[1]
    b = train_test_split(np.arange(30), stratify=y, random_state=4)[1]
    np.testing.assert_array_equal(a, b)


def test_split_sizes_match_sklearn():
    sk = pytest.importorskip("sklearn.model_selection")
    for n in (2, 3, 10, 17):
        for test_size in (None, 0.1, 0.3, 0.5, 0.9, 1, 2):
            for train_size in (None, 0.2, 0.5, 1, 3):
                X = np.arange(n)
                try:
                    expected = tuple(
                        map(
                            len,
                            sk.train_test_split(
                                X, test_size=test_size, train_size=train_size, random_state=0
                            ),
                        )
                    )
                except ValueError:
                    with pytest.raises(ValueError):
                        train_test_split(X, test_size=test_size, train_size=train_size)
                    continue
                got = train_test_split(X, test_size=test_size, train_size=train_size)
                assert tuple(map(len, got)) == expected, (n, test_size, train_size)


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"test_size": 0}, ValueError, "test_size"),
        ({"test_size": 10}, ValueError, "test_size"),
        ({"test_size": 1.0}, ValueError, "test_size"),
        ({"test_size": -0.1}, ValueError, "test_size"),
        ({"test_size": True}, TypeError, "test_size"),
        ({"test_size": "0.2"}, TypeError, "test_size"),
        ({"train_size": 0.0}, ValueError, "train_size"),
        ({"train_size": 11}, ValueError, "train_size"),
        ({"test_size": 0.6, "train_size": 0.5}, ValueError, "at most 1"),
        ({"test_size": 5, "train_size": 6}, ValueError, "more than the 10"),
        ({"test_size": 0.05, "train_size": 0.01}, ValueError, "train set empty"),
        ({"shuffle": "yes"}, TypeError, "shuffle"),
        ({"random_state": -1}, ValueError, "random_state"),
        ({"random_state": 1.5}, TypeError, "random_state"),
    ],
)
def test_split_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        train_test_split(np.arange(10), **kwargs)


def test_split_bad_arrays():
    with pytest.raises(ValueError, match="at least one array"):
        train_test_split()
    with pytest.raises(ValueError, match=r"arrays\[0\]: 10, arrays\[1\]: 9"):
        train_test_split(np.arange(10), np.arange(9))
    with pytest.raises(TypeError, match=r"arrays\[1\]"):
        train_test_split(np.arange(10), 5)
    with pytest.raises(ValueError, match="empty"):
        train_test_split(np.arange(1))


def test_stratified_split_errors():
    y = np.array([0, 0, 0, 1, 1, 1, 2])
    with pytest.raises(ValueError, match="class 2 has only 1 member"):
        train_test_split(np.arange(7), stratify=y)
    y = np.repeat([0, 1, 2], 4)
    with pytest.raises(ValueError, match="test set would have 2 samples, fewer than the 3"):
        train_test_split(np.arange(12), test_size=2, stratify=y)
    with pytest.raises(ValueError, match="train set would have 2"):
        train_test_split(np.arange(12), train_size=2, stratify=y)
    with pytest.raises(ValueError, match="shuffle=True"):
        train_test_split(np.arange(12), stratify=y, shuffle=False)
    with pytest.raises(ValueError, match="stratify: 11"):
        train_test_split(np.arange(12), stratify=y[:11])
    with pytest.raises(TypeError, match="stratify"):
        train_test_split(np.arange(4), stratify=np.array([1, "a", 1, "a"], dtype=object))


# ---- KFold -------------------------------------------------------------------------------
def check_partition(folds, n, n_splits):
    """Every sample is in exactly one test fold; train is the complement; sizes near equal."""
    assert len(folds) == n_splits
    seen = np.zeros(n, int)
    for train, test in folds:
        assert train.dtype.kind == "i" and test.dtype.kind == "i"
        seen[test] += 1
        np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(n))
    np.testing.assert_array_equal(seen, 1)
    sizes = [len(test) for _, test in folds]
    assert max(sizes) - min(sizes) <= 1


def test_kfold_hand_example():
    folds = list(KFold(3).split(np.zeros((7, 2))))
    assert [test.tolist() for _, test in folds] == [[0, 1, 2], [3, 4], [5, 6]]
    assert folds[1][0].tolist() == [0, 1, 2, 5, 6]


@pytest.mark.parametrize("n,k", [(2, 2), (10, 3), (11, 5), (25, 25), (100, 7)])
@pytest.mark.parametrize("shuffle", [False, True])
def test_kfold_covers_every_sample_once(n, k, shuffle):
    cv = KFold(k, shuffle=shuffle, random_state=0 if shuffle else None)
    check_partition(list(cv.split(np.zeros(n))), n, k)
    assert cv.get_n_splits() == k


def test_kfold_shuffle_reproducible():
    X = np.zeros(30)
    tests = lambda cv: [t.tolist() for _, t in cv.split(X)]  # noqa: E731
    a, b = KFold(3, shuffle=True, random_state=1), KFold(3, shuffle=True, random_state=1)
    assert tests(a) == tests(b) == tests(a)  # an int seed: the same every call
    assert tests(KFold(3, shuffle=True, random_state=2)) != tests(a)
    assert tests(KFold(3)) == [list(range(0, 10)), list(range(10, 20)), list(range(20, 30))]
    gen = KFold(3, shuffle=True, random_state=np.random.default_rng(0))
    assert tests(gen) != tests(gen)  # a Generator is drawn from


def test_kfold_matches_sklearn_without_shuffle():
    sk = pytest.importorskip("sklearn.model_selection")
    for n, k in ((10, 3), (17, 5), (6, 6)):
        ours = [(a.tolist(), b.tolist()) for a, b in KFold(k).split(np.zeros(n))]
        theirs = [(a.tolist(), b.tolist()) for a, b in sk.KFold(k).split(np.zeros(n))]
        assert ours == theirs


@pytest.mark.parametrize("cls", [KFold, StratifiedKFold])
def test_kfold_bad_arguments(cls):
    with pytest.raises(ValueError, match="n_splits"):
        cls(1)
    with pytest.raises(TypeError, match="n_splits"):
        cls(2.0)
    with pytest.raises(TypeError, match="n_splits"):
        cls(True)
    with pytest.raises(TypeError, match="shuffle"):
        cls(3, shuffle=1)
    with pytest.raises(ValueError, match="random_state has no effect with shuffle=False"):
        cls(3, random_state=0)
    with pytest.raises(ValueError, match="n_splits=5 is more than the 4 samples"):
        cls(5).split(np.zeros(4), np.array([0, 1, 0, 1]))
    with pytest.raises(ValueError, match="X: 4, y: 3"):
        cls(2).split(np.zeros(4), np.array([0, 1, 0]))
    with pytest.raises(TypeError, match="X"):
        cls(2).split(3, np.array([0, 1, 0]))
    assert (
        repr(cls(4, shuffle=True, random_state=3))
        == f"{cls.__name__}(n_splits=4, shuffle=True, random_state=3)"
    )


# ---- StratifiedKFold ---------------------------------------------------------------------
def test_stratified_kfold_hand_example():
    y = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1])
    folds = list(StratifiedKFold(3).split(np.zeros(9), y))
    assert [test.tolist() for _, test in folds] == [[0, 1, 6], [2, 3, 7], [4, 5, 8]]


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize(
    "y",
    [
        np.repeat([0, 1, 2], [23, 11, 6]),
        np.repeat(["spam", "ham"], [17, 30]),
        np.repeat([True, False], [12, 5]),
    ],
)
def test_stratified_kfold_keeps_proportions(y, shuffle):
    y = y[np.random.default_rng(1).permutation(len(y))]
    k = 5
    cv = StratifiedKFold(k, shuffle=shuffle, random_state=0 if shuffle else None)
    folds = list(cv.split(np.zeros((len(y), 1)), y))
    check_partition(folds, len(y), k)
    classes = np.unique(y)
    per_fold = np.array([class_counts(y[test], classes) for _, test in folds])
    assert np.all(per_fold.max(axis=0) - per_fold.min(axis=0) <= 1), per_fold
    np.testing.assert_array_equal(per_fold.sum(axis=0), class_counts(y, classes))


def test_stratified_kfold_shuffle_changes_members_not_counts():
    y = np.repeat([0, 1], [20, 10])
    X = np.zeros(30)
    plain = [t.tolist() for _, t in StratifiedKFold(5).split(X, y)]
    a = [t.tolist() for _, t in StratifiedKFold(5, shuffle=True, random_state=3).split(X, y)]
    b = [t.tolist() for _, t in StratifiedKFold(5, shuffle=True, random_state=3).split(X, y)]
    assert a == b and a != plain
    assert [len(t) for t in a] == [len(t) for t in plain]


def test_stratified_kfold_matches_sklearn_without_shuffle():
    sk = pytest.importorskip("sklearn.model_selection")
    rng = np.random.default_rng(2)
    for n, k, labels in ((20, 3, ["b", "a", "c"]), (31, 4, [3, 1]), (12, 3, [0, 1, 2, 3])):
        y = rng.choice(labels, n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = [
                (a.tolist(), b.tolist()) for a, b in sk.StratifiedKFold(k).split(np.zeros(n), y)
            ]
            ours = [(a.tolist(), b.tolist()) for a, b in StratifiedKFold(k).split(np.zeros(n), y)]
        assert ours == theirs


def test_stratified_kfold_errors_and_warning():
    X = np.zeros(6)
    with pytest.raises(ValueError, match="needs y"):
        StratifiedKFold(2).split(X, None)
    with pytest.raises(ValueError, match="every class of y"):
        StratifiedKFold(3).split(X, np.array([0, 0, 1, 1, 2, 2]))
    with pytest.warns(UserWarning, match="least populated class of y, 2, has 1 members"):
        folds = list(StratifiedKFold(2).split(X, np.array([0, 0, 0, 1, 1, 2])))
    check_partition(folds, 6, 2)
    with pytest.raises(TypeError, match="y"):
        StratifiedKFold(2).split(X, np.array([0, "a", 0, "a", 0, "a"], dtype=object))
