"""One module per kind of `--source`; each ends as a local folder of image files plus an exact identity."""
