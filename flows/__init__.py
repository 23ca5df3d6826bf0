"""Composition: which steps run, in what order, with which parameters; and the `ganflow` CLI."""

import warnings

# An unusable PREFECT_HOME gets one line from flows/temporary_server.py; Prefect's warning about it, at
# import, would put two more lines of its own before it.
warnings.filterwarnings("ignore", message="Failed to create the Prefect home directory")
