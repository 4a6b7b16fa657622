import os
import sys
import zlib

import numpy as np
import pytest

# Make tests/helpers.py importable whatever pytest's import mode.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:
    from hypothesis import HealthCheck, settings

    # CI runs 25 examples per plain @given test (the fuzz tests set their own counts,
    # tests/helpers.py fuzz_decorator). For a long local hunt, without CI (so the
    # examples are random): HYPOTHESIS_MAX_EXAMPLES=100000 sets the plain tests' count,
    # PYNN_FUZZ_SCALE=20 multiplies every fuzz test's count.
    settings.register_profile(
        "pynn",
        max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "25")),
        deadline=None,
        database=None,
        derandomize=bool(os.environ.get("CI")),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    settings.load_profile("pynn")
except ImportError:  # pragma: no cover - hypothesis tests are skipped then
    pass


@pytest.fixture
def rng(request):
    """A generator seeded from the test's id: reproducible, and different per test case."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))


@pytest.fixture
def restore_threads():
    """Restore pynn's thread count after a test that changes it."""
    import pynn._kernels as K

    saved = K.get_num_threads()
    yield
    K.set_num_threads(saved)
