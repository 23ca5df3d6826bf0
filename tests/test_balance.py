"""The jhayes14 balance rule: extra updates go to the losing network, are capped, and are counted."""

import numpy as np
import pytest

from ganmodels.balance import balance_extra_steps
from ganmodels.config import GanConfig
from ganmodels.state import TrainingState


class Recorder:
    """Stand-in updates that return scripted losses, recording which network trained."""

    def __init__(self, d_losses, g_losses):
        self.calls, self.d_losses, self.g_losses = [], iter(d_losses), iter(g_losses)

    def d(self, k):
        self.calls.append(("d", k))
        return next(self.d_losses)

    def g(self, k):
        self.calls.append(("g", k))
        return next(self.g_losses)


def test_the_losing_discriminator_trains_until_the_gap_closes():
    """D's loss is compared per image: half of the sum of its real and fake means that ganflow reports."""
    rec = Recorder([(4.0, 0.5), (3.6, 0.6), (1.1, 0.6)], [])
    assert balance_extra_steps((4.4, 0.5), 0.1, 5, rec.d, rec.g) == (3, 0)
    assert rec.calls == [("d", 0), ("d", 1), ("d", 2)]


def test_only_the_retrained_networks_loss_moves_as_in_the_seed():
    """train.py re-measures one side only: `d_loss = discriminator.train_on_batch(Xd, yd)` while
    `#g_loss = discriminator_on_generator.train_on_batch(Xg, yg)` stays commented out."""
    rec = Recorder([(1.6, 5.0), (1.0, 5.0)], [])  # the G loss D's update measures is not the rule's
    assert balance_extra_steps((2.0, 0.5), 0.1, 5, rec.d, rec.g) == (2, 0)  # 0.8 then 0.5 per image vs 0.5
    rec = Recorder([], [(0.1, 1.2), (0.1, 1.0)])
    assert balance_extra_steps((2.0, 1.5), 0.1, 5, rec.d, rec.g) == (0, 2)  # 1.2, then 1.0 vs D's 1.0


def test_the_losing_generator_trains_and_only_one_side_per_batch():
    rec = Recorder([], [(1.0, 2.0), (1.0, 0.3)])  # G overshoots: D does not get a turn on this batch
    assert balance_extra_steps((1.0, 2.5), 0.1, 5, rec.d, rec.g) == (0, 2)
    assert [c[0] for c in rec.calls] == ["g", "g"]


def test_extra_updates_are_capped_and_none_within_the_margin():
    rec = Recorder([(5.0, 0.1)] * 10, [])
    assert balance_extra_steps((5.0, 0.1), 0.1, 3, rec.d, rec.g) == (3, 0)
    assert balance_extra_steps((1.4, 0.693), 0.1, 3, rec.d, rec.g) == (0, 0)  # both at log 2 per image
    assert balance_extra_steps((1.0, 5.0), 0.1, 0, rec.d, rec.g) == (0, 0)


@pytest.mark.slow
def test_training_counts_extra_updates_per_epoch_and_in_total():
    cfg = GanConfig(
        size=28,
        channels=1,
        latent_dim=8,
        batch_size=4,
        g_filters=8,
        d_filters=8,
        balance_margin=0.0,
        balance_max_steps=2,
    )
    state = TrainingState.build(cfg)
    data = np.random.default_rng(0).integers(0, 256, (4, 28, 28, 1), dtype=np.uint8)
    steps = [state.train_batch(data) for _ in range(3)]
    per_step = [(s["d_extra"], s["g_extra"]) for s in steps]
    assert all(d + g >= 1 and d <= 2 and g <= 2 and d * g == 0 for d, g in per_step), per_step
    d_opt, g_opt = state.models.d_optimizer, state.models.g_optimizer
    assert int(d_opt.iterations.numpy()) == 3 + sum(d for d, _ in per_step)  # every extra update happened
    assert int(g_opt.iterations.numpy()) == 3 + sum(g for _, g in per_step)
    epoch = state.finish_epoch()
    assert (epoch["d_extra"], epoch["g_extra"]) == tuple(map(sum, zip(*per_step, strict=True)))
    state.train_batch(data)
    assert state.finish_epoch()["d_extra"] + state.finish_epoch()["g_extra"] <= 2  # reset each epoch
    assert state.extra_updates()["d"] + state.extra_updates()["g"] >= 4


@pytest.mark.slow
def test_off_means_no_extra_updates_and_d_pretraining_leaves_g_alone():
    cfg = GanConfig(size=28, channels=1, latent_dim=8, batch_size=4, g_filters=8, d_filters=8, d_pretrain_steps=2)
    state = TrainingState.build(cfg)
    data = np.zeros((4, 28, 28, 1), np.uint8)
    for _ in range(3):
        assert state.train_batch(data)["d_extra"] == 0
    assert int(state.models.d_optimizer.iterations.numpy()) == 3
    assert int(state.models.g_optimizer.iterations.numpy()) == 1  # steps 0 and 1 trained D alone
