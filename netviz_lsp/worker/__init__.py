"""The only place that imports Keras or runs user code (see ARCHITECTURE.md). The parent side lives in ``pool``."""
