"""The loud failure every hook module shares: a library no longer has the private name (or the signature, or the
behaviour) a hook was written against. Each hook checks what it relies on at its first use and raises
LibraryChanged naming the library, the version installed, the private name and the version the hook was written
for, instead of going on silently wrong. Imports nothing but the standard library."""
from __future__ import annotations

import importlib.metadata
import inspect
import platform


class LibraryChanged(RuntimeError):
    """A library changed a private name that a hook in trainer/hooks/ uses."""


def installed(distribution: str) -> str:
    """The version of `distribution` in this environment (Python's own for the standard library)."""
    if distribution == "Python":
        return platform.python_version()
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def changed(distribution: str, private: str, written_for: str, what: str) -> LibraryChanged:
    return LibraryChanged(
        f"{distribution} {installed(distribution)} is installed; M3 Studio's hook on its private `{private}` was "
        f"written against {distribution} {written_for}: {what}. Install the tested version (requirements.txt) or "
        f"update the hook (trainer/hooks/, tests/test_hooks.py).")


def require(condition: bool, distribution: str, private: str, written_for: str, what: str) -> None:
    if not condition:
        raise changed(distribution, private, written_for, what)


def parameter_names(func) -> list[str]:
    """The names of `func`'s parameters, `self` left out."""
    return [name for name in inspect.signature(func).parameters if name != "self"]


def require_parameters(func, expected: tuple[str, ...], distribution: str, private: str, written_for: str) -> None:
    """`func` (the private name, already looked up) takes exactly the parameters `expected`, in that order."""
    names = parameter_names(func)
    require(names == list(expected), distribution, private, written_for,
            f"its parameters are ({', '.join(names)}), the hook expects ({', '.join(expected)})")


def require_source(func, snippets: tuple[str, ...], distribution: str, private: str, written_for: str) -> None:
    """`func`'s source still contains every one of `snippets` (where the library uses the private name the way the
    hook relies on: no signature says it)."""
    try:
        source = inspect.getsource(func)
    except (OSError, TypeError) as exc:
        raise changed(distribution, private, written_for, f"the source of {func!r} cannot be read ({exc})") from None
    missing = [s for s in snippets if s not in source]
    require(not missing, distribution, private, written_for,
            f"{getattr(func, '__qualname__', func)} no longer contains {missing}")


def lookup(owner, name: str, distribution: str, written_for: str, private: str | None = None):
    """`getattr(owner, name)`, or LibraryChanged when it is gone."""
    try:
        return getattr(owner, name)
    except AttributeError:
        raise changed(distribution, private or f"{getattr(owner, '__name__', type(owner).__name__)}.{name}",
                      written_for, "it no longer exists") from None
