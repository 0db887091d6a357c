"""``python -m netviz_lsp``: the NetViz language server over stdio (``--tcp HOST:PORT`` to debug)."""

import sys

from netviz_lsp.server import prestart

prestart.begin()  # the worker imports Keras while the server imports its own modules

from netviz_lsp.server.app import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
