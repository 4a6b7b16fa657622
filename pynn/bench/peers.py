"""Which optional peers are installed, found without importing them (torch takes seconds)."""

import importlib.metadata
import importlib.util

# import name -> distribution name
PEERS = {"torch": "torch", "sklearn": "scikit-learn", "threadpoolctl": "threadpoolctl"}


def installed(name):
    """True when the module `name` can be imported."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def version(name):
    """The installed version of peer `name` (an import name of PEERS), or None."""
    if not installed(name):
        return None
    try:
        return importlib.metadata.version(PEERS.get(name, name))
    except importlib.metadata.PackageNotFoundError:
        return "unknown version"


def found():
    """{import name: version or None (not installed)} for every peer."""
    return {name: version(name) for name in PEERS}


def describe(versions):
    """One line saying which peers were found."""
    parts = []
    for name, distribution in PEERS.items():
        found_version = versions.get(name)
        parts.append(
            f"{distribution} {found_version}"
            if found_version
            else f"{distribution}: not installed (skipped)"
        )
    return "; ".join(parts)
