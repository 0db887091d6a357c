"""Settings: ``initializationOptions``, ``workspace/didChangeConfiguration`` and ``workspace/configuration``.

One camelCase object (DESIGN.md, "Settings"), parsed by ``Settings.from_json``. A
``didChangeConfiguration`` that carries it (whole, or under ``netviz``) is used as is;
one that carries nothing useful (VS Code sends ``null`` under the pull model) makes the
server pull section ``netviz`` when the client supports ``workspace/configuration``.
What changed decides what happens: render options (the diagram's, and the views'
``render.layered``, ``render.neuron`` and ``collapseRepeats``) redraw the last graphs
without a build, and a redrawn diagram makes the panel ask for its view again; build
options rebuild the open factory files; the inlay switch refreshes hints.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

from lsprotocol import types

from netviz_lsp.server.commands import plain
from netviz_lsp.settings import Settings

if TYPE_CHECKING:
    from netviz_lsp.server.app import NetVizServer

log = logging.getLogger(__name__)
SECTION = "netviz"
_KEYS = frozenset({"build", "render", "inlayHints"})


def settings_object(value: Any) -> Optional[dict]:
    """The NetViz settings object in ``value``, or None when ``value`` holds none."""
    value = plain(value)
    if not isinstance(value, dict):
        return None
    if isinstance(value.get(SECTION), dict):
        return value[SECTION] or None
    return value if _KEYS & set(value) else None


@dataclass(frozen=True)
class SettingsChange:
    """What a new settings object means for the server."""

    rebuild: bool
    """Build options changed: rebuild the open factory files."""
    rerender: bool
    """Only what is drawn changed (``render``, including the views' ``render.layered``,
    ``render.neuron`` and ``collapseRepeats``): redraw the last graphs."""
    restart_worker: bool
    """The worker's memory limit changed: new workers must start with it."""
    refresh_hints: bool
    """Inlay hints were switched on or off."""


def compare(old: Settings, new: Settings) -> SettingsChange:
    rebuild = old.build != new.build
    return SettingsChange(
        rebuild=rebuild,
        rerender=not rebuild and (old.render != new.render or old.views != new.views),
        restart_worker=old.build.effective_memory_limit_mb() != new.build.effective_memory_limit_mb(),
        refresh_hints=old.inlay_hints != new.inlay_hints,
    )


async def pull(ls: "NetVizServer") -> Optional[dict]:
    """Ask the client for section ``netviz``; None when it cannot answer."""
    if not ls.supports_configuration():
        return None
    try:
        answer = await ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section=SECTION)]))
    except Exception as error:
        log.warning("workspace/configuration failed: %s", error)
        return None
    if not answer:
        return None
    value = plain(answer[0])
    return value if isinstance(value, dict) else None


def register(server: "NetVizServer") -> None:
    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    @server.guarded
    async def did_change_configuration(ls: "NetVizServer", params: types.DidChangeConfigurationParams) -> None:
        """Apply the new settings: from the notification, or pulled from the client."""
        value = settings_object(params.settings)
        if value is None:
            value = await pull(ls)
        if value is None:
            return
        ls.apply_settings(Settings.from_json(value))
