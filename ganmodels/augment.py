"""DiffAugment (Zhao et al. 2020): random, differentiable augmentations of every real and fake image D sees.

D sees only augmented images, real and fake alike, and G's gradient flows back through the
augmentation, so D cannot memorise a small training set (the seeds trained on about 400 faces)
while G still learns the un-augmented distribution. The three policies follow the paper's code:

- color: random brightness (+-0.5), saturation (x0..2) and contrast (x0.5..1.5) per image;
- translation: shift by up to 1/8 of the side, filling with zeros (mid-gray in [-1, 1]);
- cutout: zero a random square of half the side.

Every draw is stateless, from `seed`, so a resumed run augments exactly as the uninterrupted one.
"""

from ganmodels.streams import Rows
from ganmodels.tf import tf

TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def color(x, rows: Rows, seed):
    seeds = tf.random.experimental.stateless_split(seed, 3)
    x = x + rows.uniform((1, 1, 1), seeds[0], -0.5, 0.5)
    mean = tf.reduce_mean(x, axis=3, keepdims=True)
    x = (x - mean) * rows.uniform((1, 1, 1), seeds[1], 0.0, 2.0) + mean
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    return (x - mean) * rows.uniform((1, 1, 1), seeds[2], 0.5, 1.5) + mean


def translation(x, rows: Rows, seed, ratio: float = TRANSLATION_RATIO):
    h, w = x.shape[1], x.shape[2]
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    seeds = tf.random.experimental.stateless_split(seed, 2)
    dy = rows.uniform((1,), seeds[0], -sh, sh + 1, tf.int32)
    dx = rows.uniform((1,), seeds[1], -sw, sw + 1, tf.int32)
    padded = tf.pad(x, [[0, 0], [sh, sh], [sw, sw], [0, 0]])
    x = tf.gather(padded, tf.range(h)[None, :] + sh - dy, axis=1, batch_dims=1)  # row r shows input row r - dy
    return tf.gather(x, tf.range(w)[None, :] + sw - dx, axis=2, batch_dims=1)


def cutout(x, rows: Rows, seed, ratio: float = CUTOUT_RATIO):
    h, w = x.shape[1], x.shape[2]
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    seeds = tf.random.experimental.stateless_split(seed, 2)
    top = rows.uniform((1, 1), seeds[0], 0, h + (1 - ch % 2), tf.int32) - ch // 2
    left = rows.uniform((1, 1), seeds[1], 0, w + (1 - cw % 2), tf.int32) - cw // 2
    r, c = tf.range(h)[None, :, None], tf.range(w)[None, None, :]
    inside = (r >= top) & (r < top + ch) & (c >= left) & (c < left + cw)
    return x * tf.cast(~inside, x.dtype)[..., None]


POLICIES = {"color": color, "translation": translation, "cutout": cutout}


def diff_augment(x, policies: tuple[str, ...], seed, rows: Rows | None = None):
    """Apply `policies` in order to a float batch (N, H, W, C); an empty tuple returns `x` untouched.

    `rows` says which rows of the global batch `x` is (one replica's share); default: all of it.
    """
    rows = rows or Rows.whole(tf.shape(x)[0])
    for i, name in enumerate(policies):
        x = POLICIES[name](x, rows, tf.random.experimental.stateless_fold_in(seed, i))
    return x
