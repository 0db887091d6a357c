"""TRANSITIONAL: moved to ``netviz_lsp.engine.workspace`` (removed once the tests import it from there)."""

from netviz_lsp.engine.workspace import imported_names, is_ignored, module_files, workspace_dependencies  # noqa: F401
