"""The views' options (``ViewOptions``), parsed from the settings object under ``render``::

    {"render": {"collapseRepeats": true,          (absent: on for layered and neuron only)
                "layered": {"typeIgnore": ["Dropout"], "spacing": 18, "legend": true},
                "neuron": {"maxUnits": 10}}}

The class lives in ``settings.py``, the one settings module; the views import it from here.
"""

from __future__ import annotations

from netviz_lsp.settings import ViewOptions

__all__ = ["ViewOptions"]
