"""NetViz: live Keras architecture diagrams through the Language Server Protocol."""

__version__ = "0.1.0"
