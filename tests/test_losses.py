"""Every loss runs and points D the right way; the label tricks and the gradient penalty do what they say."""

import numpy as np
import pytest

from ganmodels.config import LOSSES, GanConfig
from ganmodels.losses import d_labels, discriminator_loss, generator_loss, gradient_penalty
from ganmodels.state import TrainingState
from ganmodels.streams import MAIN_PASS, Rows
from ganmodels.tf import tf

TINY = {"size": 28, "channels": 1, "latent_dim": 8, "batch_size": 8, "g_filters": 8, "d_filters": 8, "seed": 2}


@pytest.mark.parametrize("loss", LOSSES)
def test_loss_values_order_good_and_bad_discriminators(loss):
    high, low = tf.fill([8, 1], 3.0), tf.fill([8, 1], -3.0)
    right, wrong = discriminator_loss(loss, high, low), discriminator_loss(loss, low, high)
    assert float(right) < float(wrong)
    assert float(generator_loss(loss, high)) < float(generator_loss(loss, low))  # G wants D to call fakes real


@pytest.mark.slow
@pytest.mark.parametrize("loss", LOSSES)
def test_d_loss_falls_as_d_trains_on_trivial_data(loss):
    """All-white real images against a fixed, untrained G: D's own updates drive its loss down."""
    state = TrainingState.build(GanConfig(**TINY, loss=loss, lr_d=1e-3, dropout=0.0))
    white = np.full((8, 28, 28, 1), 255, np.uint8)
    losses = [float(state.train_step.d_only(white, 0, MAIN_PASS)[0]) for _ in range(12)]
    assert all(np.isfinite(losses))
    assert losses[-1] < losses[0] - 0.1, losses
    assert int(state.models.g_optimizer.iterations.numpy()) == 0  # D-only updates leave G alone
    step_losses = state.train_batch(white)  # and the full step runs with this loss too
    assert np.isfinite(step_losses["d_loss"]) and np.isfinite(step_losses["g_loss"])


@pytest.mark.slow
def test_n_critic_makes_several_d_updates_per_g_update():
    state = TrainingState.build(GanConfig(**TINY, loss="wgan-gp", n_critic=3))
    state.train_batch(np.zeros((8, 28, 28, 1), np.uint8))
    assert int(state.models.d_optimizer.iterations.numpy()) == 3
    assert int(state.models.g_optimizer.iterations.numpy()) == 1


def _labels(seed=(1, 2), count=4000, **tricks):
    return [t.numpy().ravel() for t in d_labels(GanConfig(**tricks), Rows.whole(count), tf.constant(seed, tf.int64))]


def test_label_smoothing_is_one_sided():
    real, fake = _labels(label_smoothing=0.9)
    assert np.all(real == np.float32(0.9)) and np.all(fake == 0.0)


def test_label_noise_jitters_within_its_range_and_is_a_function_of_the_seed():
    real, fake = _labels(label_smoothing=0.9, label_noise=0.2)
    assert real.min() >= 0.7 - 1e-6 and real.max() <= 0.9 + 1e-6 and real.std() > 0.04
    assert fake.min() >= 0.0 and fake.max() <= 0.2 + 1e-6 and fake.std() > 0.04
    np.testing.assert_array_equal(real, _labels(label_smoothing=0.9, label_noise=0.2)[0])
    assert not np.array_equal(real, _labels(seed=(1, 3), label_smoothing=0.9, label_noise=0.2)[0])


def test_flip_labels_swaps_about_that_fraction():
    real, fake = _labels(flip_labels=0.1)
    assert 0.07 < np.mean(real == 0.0) < 0.13 and 0.07 < np.mean(fake == 1.0) < 0.13
    assert set(np.unique(real)) == {0.0, 1.0}


def test_rows_of_a_mirrored_batch_are_slices_of_the_whole_draw():
    seed = tf.constant([4, 5], tf.int64)
    cfg = GanConfig(label_noise=0.3, flip_labels=0.2)
    whole = d_labels(cfg, Rows.whole(8), seed)[0].numpy()
    parts = [d_labels(cfg, Rows(start, 4, 8), seed)[0].numpy() for start in (0, 4)]
    np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_label_tricks_are_refused_for_losses_without_labels():
    with pytest.raises(ValueError, match="--loss hinge"):
        GanConfig(loss="hinge", label_smoothing=0.9)
    with pytest.raises(ValueError, match="--d-batchnorm"):
        GanConfig(loss="wgan-gp", d_batchnorm=True)


def test_gradient_penalty_measures_the_gradient_norm():
    """For a linear critic D(x) = <w, x>, the gradient norm is |w| everywhere: the penalty is (|w| - 1)^2."""
    real, fake = tf.ones([4, 2, 2, 1]), tf.zeros([4, 2, 2, 1])
    for norm in (1.0, 3.0):
        w = tf.fill([1, 2, 2, 1], norm / 2.0)  # four entries: |w| = norm

        def critic(x, training, w=w):
            return tf.reduce_sum(x * w, axis=[1, 2, 3])[:, None]

        penalty = gradient_penalty(critic, real, fake, Rows.whole(4), tf.constant([0, 1], tf.int64))
        assert float(penalty) == pytest.approx((norm - 1.0) ** 2, abs=1e-4)
