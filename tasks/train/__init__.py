"""train: fit the GAN on the cached array (`task.py`), with its options and epoch bookkeeping."""
