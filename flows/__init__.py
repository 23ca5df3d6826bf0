"""Composition: which steps run, in what order, with which parameters; and the `ganflow` CLI."""
