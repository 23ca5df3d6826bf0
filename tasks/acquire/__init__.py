"""acquire: turn `--source` into a folder of images (`task.py`), one module per kind of source under `sources/`."""
