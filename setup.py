"""Build pynn's one extension module, pynn._kernels, from csrc/ and pynn/*.pyx.

The kernels run on pynn's own thread pool (csrc/threadpool.c, POSIX threads;
one thread per call on Windows).
Set PYNN_SANITIZE=1 to build with AddressSanitizer and UndefinedBehaviorSanitizer
(GCC or Clang; for tests: .ci/sanitize runs the suite on such a build).
No flags for the build machine's own CPU: vector instructions must come from
runtime dispatch, so the package runs on any x86-64 and aarch64.
"""
import os
from glob import glob

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

C_SOURCES = sorted(glob(os.path.join("csrc", "*.c")))
C_HEADERS = sorted(glob(os.path.join("csrc", "*.h")))

def sanitize_flags(compiler):
    """Compile and link flags for PYNN_SANITIZE=1, else None. Any undefined behaviour
    aborts (no recovery), so a test run fails on the first report; -O1 -g keeps the
    reports' stacks readable and the suite fast enough. -fno-wrapv undoes the -fwrapv of
    Python's own CFLAGS, under which signed overflow is defined and so never reported."""
    if os.environ.get("PYNN_SANITIZE", "") in ("", "0"):
        return None
    if compiler.compiler_type == "msvc":
        raise RuntimeError("PYNN_SANITIZE=1 needs GCC or Clang")
    return ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
            "-fno-omit-frame-pointer", "-fno-wrapv", "-O1", "-g"]


class BuildExt(build_ext):
    def build_extensions(self):
        msvc = self.compiler.compiler_type == "msvc"
        # -std=c11 also keeps GCC from contracting a*b+c into an FMA, so results do
        # not depend on the ISA. The two -fno flags change no result; they let the
        # compiler vectorise sqrt and selects. Never -ffast-math (NaN, inf, order).
        cflags = ["/O2"] if msvc else ["-O3", "-std=c11", "-fno-math-errno", "-fno-trapping-math"]
        ldflags = []
        sanitize = sanitize_flags(self.compiler)
        if sanitize is not None:
            cflags = [f for f in cflags if f != "-O3"] + sanitize
            ldflags += sanitize
        if not msvc:  # pynn's thread pool (csrc/threadpool.c) is POSIX threads
            cflags.append("-pthread")
            ldflags.append("-pthread")
        for ext in self.extensions:
            ext.extra_compile_args = cflags + ext.extra_compile_args
            ext.extra_link_args = ldflags + ext.extra_link_args
        # pip builds in the source tree's build/, whose up-to-date objects would otherwise
        # put a normal extension into a sanitized install, or the reverse: any change of
        # flags since the last complete build there rebuilds everything.
        flags = " ".join(cflags + ["--link"] + ldflags)
        stamp = os.path.join(self.build_temp, "pynn-build-flags")
        if read_stamp(stamp) != flags:
            self.force = True
        super().build_extensions()
        os.makedirs(self.build_temp, exist_ok=True)
        with open(stamp, "w") as f:
            f.write(flags + "\n")


def read_stamp(path):
    """The flags of the last complete build, or None."""
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


extensions = [
    Extension(
        "pynn._kernels",
        sources=["pynn/_kernels.pyx"] + C_SOURCES,
        depends=C_HEADERS + glob(os.path.join("pynn", "*.pxi")) + ["pynn/_capi.pxd"],
        include_dirs=["csrc", numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")],
    )
]

setup(
    ext_modules=cythonize(extensions, compiler_directives={"language_level": "3"}),
    cmdclass={"build_ext": BuildExt},
)
