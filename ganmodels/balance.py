"""The jhayes14 balance rule: train the losing network again on the same batch, within a cap.

After the normal D and G update of a batch (github.com/jhayes14/GAN, train.py):
- while loss_G < loss_D and the gap is over the margin, D trains again on the same batch;
- otherwise, while loss_D < loss_G and the gap is over the margin, G trains again.
Only the retrained network's loss moves: the other one's stays at its value from the batch's normal
update, as in the seed, whose loops re-measure one side only (`d_loss = discriminator.train_on_batch(Xd,
yd)`, with `#g_loss = ...` commented out above it). The original loops had no bound; here each is
capped at `max_steps`, and the extra updates are counted so a run shows how often each network needed
them. It runs in Python around the compiled updates, so it costs nothing
when it is off and one small host read per extra update when it is on.
"""

from collections.abc import Callable

Losses = tuple[float, float]  # (d_loss, g_loss)


def balance_extra_steps(
    losses: Losses,
    margin: float,
    max_steps: int,
    train_d: Callable[[int], Losses],
    train_g: Callable[[int], Losses],
) -> tuple[int, int]:
    """Run the rule from the batch's `losses`; return how many extra (D, G) updates it made.

    `losses` and what the updates return are (d_loss, g_loss) as ganflow reports them: d_loss is the
    sum of D's mean loss on real and on fake images. The rule compares D's loss per image, half of
    that, as the seed's Keras D reported it for its concatenated real + fake batch.
    """
    d_loss, g_loss = _per_image(losses)
    d_extra = g_extra = 0
    if d_loss > g_loss:  # D is losing: train it again while the gap to G's batch loss is over the margin
        while d_extra < max_steps and d_loss - g_loss > margin:
            d_loss = _per_image(train_d(d_extra))[0]
            d_extra += 1
    else:
        while g_extra < max_steps and g_loss - d_loss > margin:
            g_loss = _per_image(train_g(g_extra))[1]
            g_extra += 1
    return d_extra, g_extra


def _per_image(losses: Losses) -> Losses:
    return losses[0] / 2, losses[1]
