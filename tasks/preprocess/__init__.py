"""preprocess: decode, crop and resize images into a cached `.npy` (`task.py`), in worker processes."""
