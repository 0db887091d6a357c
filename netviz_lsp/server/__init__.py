"""The NetViz language server (pygls): features as small modules, wiring in ``app``.

See ``app.py`` for the map. Nothing in this package imports TensorFlow or runs user code.
"""
