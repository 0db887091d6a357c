"""``python -m netviz_lsp``: the NetViz language server over stdio (``--tcp HOST:PORT`` to debug)."""

import sys

from netviz_lsp.server.app import main

if __name__ == "__main__":
    sys.exit(main())
