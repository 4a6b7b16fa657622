"""pynn's controller for threadpoolctl, so that `threadpoolctl.threadpool_limits` (how
scikit-learn and joblib keep nested parallelism from oversubscribing the cores) limits
pynn's kernels as it limits BLAS and OpenMP. It sets and reads the process-wide count,
pynn.set_num_threads's. Registered at import when threadpoolctl (3.5 or later, which
takes third-party controllers) is installed; nothing happens otherwise."""

from pynn import _kernels
from pynn._version import __version__


def register_with_threadpoolctl() -> None:
    """Register pynn's controller with threadpoolctl, when threadpoolctl 3.5 or later is
    installed (else do nothing); pynn's import calls it."""
    try:
        import threadpoolctl
    except ImportError:
        return
    base = getattr(threadpoolctl, "LibController", None)
    register = getattr(threadpoolctl, "register", None)
    if base is None or register is None:  # threadpoolctl < 3.5
        return

    class PynnController(base):  # type: ignore[valid-type, misc]  # found at run time
        """pynn's kernels, found as the loaded extension module pynn._kernels."""

        user_api = "pynn"
        internal_api = "pynn"
        filename_prefixes = ("_kernels",)
        check_symbols = ("pynn_threads_start",)

        def get_num_threads(self):
            return _kernels._process_num_threads()

        def set_num_threads(self, num_threads):
            _kernels.set_num_threads(num_threads)

        def get_version(self):
            return __version__

    register(PynnController)
