"""Every handler runs guarded: an internal exception is logged, never fatal.

pygls already answers a request whose handler raised with an error response, but a
notification handler that raises (``didSave``) would only be reported as a pop-up; and
a NetViz bug must never stop the server. ``guarded`` logs the traceback to stderr and
as ``window/logMessage`` and returns None. ``JsonRpcException`` passes through: that is
how a command refuses (``netviz.export`` will not overwrite a file).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, TypeVar

from lsprotocol import types
from pygls.exceptions import JsonRpcException

log = logging.getLogger("netviz_lsp.server")
F = TypeVar("F", bound=Callable[..., Any])


def guarded(handler: F) -> F:
    """Wrap a handler ``(ls, *args)``, sync or async, of a feature or a command.

    The wrapper's signature is ``(ls, *args)`` with no annotations, on purpose: pygls
    reads a command's signature and type hints to convert its arguments, so commands get
    every argument as plain JSON and hints naming types imported only for type checking
    are never evaluated. Features need only the leading ``ls``.
    """
    if asyncio.iscoroutinefunction(handler):
        async def run_async(ls, *args):
            try:
                return await handler(ls, *args)
            except JsonRpcException:
                raise
            except Exception as error:
                report(ls, handler.__name__, error)
                return None
        return _named(run_async, handler)

    def run(ls, *args):
        try:
            return handler(ls, *args)
        except JsonRpcException:
            raise
        except Exception as error:
            report(ls, handler.__name__, error)
            return None
    return _named(run, handler)


def _named(wrapper: Any, handler: Callable[..., Any]) -> Any:
    wrapper.__name__ = wrapper.__qualname__ = handler.__name__
    wrapper.__doc__ = handler.__doc__
    wrapper.__module__ = handler.__module__
    return wrapper


def report(ls: Any, where: str, error: BaseException) -> None:
    """Log an internal error with its traceback, to stderr and to the client's log."""
    log.error("internal error in %s", where, exc_info=error)
    try:
        ls.window_log_message(types.LogMessageParams(
            type=types.MessageType.Error, message=f"NetViz internal error in {where}: {type(error).__name__}: {error}"))
    except Exception:  # the client may be gone; stderr has it already
        log.debug("could not send the error to the client", exc_info=True)
