"""Quality metrics that need no downloaded weights (those on InceptionV3 features only when its weights are local).

One file per metric; each takes uint8 image arrays (N, H, W, C) and returns plain numbers.
"""
