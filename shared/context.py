"""Where an app keeps its :class:`~shared.app_context.AppContext`: the app factory attaches it once and code holding
the app (lifespan, relay jobs, tests, a service's own dependencies) reads it back with :func:`context_of`. This
module is the only place that touches ``app.state``; it imports nothing at run time, so every module may use it."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar, cast, overload

from fastapi import FastAPI

if TYPE_CHECKING:
    from shared.app_context import AppContext

C = TypeVar("C", bound="AppContext")


def attach(app: FastAPI, context: AppContext) -> None:
    """Make ``context`` the app's context (the app factory does this once)."""
    app.state.context = context


@overload
def context_of(app: FastAPI) -> AppContext: ...
@overload
def context_of(app: FastAPI, kind: type[C]) -> C: ...
def context_of(app: FastAPI, kind: type[AppContext] | None = None) -> AppContext:
    """The app's context, as ``kind`` (a service's subclass of :class:`AppContext`) when given."""
    context = app.state.context
    if kind is not None and not isinstance(context, kind):
        raise TypeError(f"the app's context is a {type(context).__name__}, not a {kind.__name__}")
    return cast("AppContext", context)
