"""Quality metrics that need no downloaded weights (FID/KID only when InceptionV3 weights are local).

One file per metric; each takes uint8 image arrays (N, H, W, C) and returns plain numbers.
"""
