"""The JAX training state: the same GAN step as ganmodels/train_step.py, as pure functions compiled by `jax.jit`.

What TensorFlow does with tapes, `tf.function` and `tf.distribute`, this does the JAX way (the Keras guide
"Writing a training loop from scratch in JAX"): each network runs through `model.stateless_call` on
explicit variable lists (BatchNorm statistics and Dropout's seed-generator states are among its
non-trainable variables, and come back updated), gradients come from one `jax.vjp` of the pass's
(d_loss, g_loss) (D's gradient of d_loss, G's of g_loss, from the same forward pass, as the two tapes),
the WGAN-GP penalty's gradient is a nested `jax.grad`, and `optimizer.stateless_apply` steps the weights.

Random draws are `jax.random` keys folded from (seed, step, pass, purpose) (`ganmodels/stream_ids.py`),
so a resumed run draws what the uninterrupted one did; they differ from TensorFlow's numbers, so the two
backends train different (equally valid) trajectories from the same initial weights.

Several devices: the models are built under `keras.distribution.DataParallel` (variables replicated), each
batch is placed sharded on its batch axis, and XLA partitions the one compiled program; the step computes
on the global batch, so BatchNorm statistics and losses are global without any cross-replica code. The
counters live on the host (numpy). After each step the new arrays go back into the Keras variables, so
the models are always current for sampling, saving and `to_arrays`.
"""

import contextlib
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from ganmodels.backends.jax_streams import _uniform, step_key, step_latents
from ganmodels.config import GanConfig
from ganmodels.gan_parts import build_parts
from ganmodels.keras_import import keras
from ganmodels.loss_functions import loss_named
from ganmodels.multihost import local_copy
from ganmodels.runtime import Runtime
from ganmodels.state_counters import StateCounters
from ganmodels.stream_ids import (
    FAKE_AUGMENT,
    LABELS,
    MAIN_PASS,
    PENALTY,
    REAL_AUGMENT,
    SECOND_PASS,
)
from ganmodels.train_modes import Updates

# ---- DiffAugment, labels, losses, penalty (the same definitions as augment.py and losses.py) ---------------


def _color(x, key):
    keys = jax.random.split(key, 3)
    n = x.shape[0]
    x = x + _uniform(keys[0], n, (1, 1, 1), -0.5, 0.5)
    mean = jnp.mean(x, axis=3, keepdims=True)
    x = (x - mean) * _uniform(keys[1], n, (1, 1, 1), 0.0, 2.0) + mean
    mean = jnp.mean(x, axis=(1, 2, 3), keepdims=True)
    return (x - mean) * _uniform(keys[2], n, (1, 1, 1), 0.5, 1.5) + mean


def _translation(x, key, ratio: float = 0.125):
    n, h, w = x.shape[0], x.shape[1], x.shape[2]
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    keys = jax.random.split(key, 2)
    dy = jax.random.randint(keys[0], (n, 1), -sh, sh + 1)
    dx = jax.random.randint(keys[1], (n, 1), -sw, sw + 1)
    padded = jnp.pad(x, ((0, 0), (sh, sh), (sw, sw), (0, 0)))
    rows = (jnp.arange(h)[None, :] + sh - dy)[:, :, None, None]  # row r shows input row r - dy
    x = jnp.take_along_axis(padded, rows, axis=1)
    cols = (jnp.arange(w)[None, :] + sw - dx)[:, None, :, None]
    return jnp.take_along_axis(x, cols, axis=2)


def _cutout(x, key, ratio: float = 0.5):
    n, h, w = x.shape[0], x.shape[1], x.shape[2]
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    keys = jax.random.split(key, 2)
    top = jax.random.randint(keys[0], (n, 1, 1), 0, h + (1 - ch % 2)) - ch // 2
    left = jax.random.randint(keys[1], (n, 1, 1), 0, w + (1 - cw % 2)) - cw // 2
    r, c = jnp.arange(h)[None, :, None], jnp.arange(w)[None, None, :]
    inside = (r >= top) & (r < top + ch) & (c >= left) & (c < left + cw)
    return x * (~inside).astype(x.dtype)[..., None]


POLICIES = {"color": _color, "translation": _translation, "cutout": _cutout}


def diff_augment(x, policies: tuple[str, ...], key):
    for i, name in enumerate(policies):
        x = POLICIES[name](x, jax.random.fold_in(key, i))
    return x


def d_labels(config: GanConfig, count: int, key):
    """(real targets, fake targets) for D with the configured smoothing, jitter and flips (`losses.d_labels`)."""
    real = jnp.full((count, 1), config.label_smoothing, jnp.float32)
    fake = jnp.zeros((count, 1), jnp.float32)
    keys = jax.random.split(key, 4)
    if config.label_noise:
        real -= _uniform(keys[0], count, (1,), 0.0, config.label_noise)
        fake += _uniform(keys[1], count, (1,), 0.0, config.label_noise)
    if config.flip_labels:
        flip_real = _uniform(keys[2], count, (1,)) < config.flip_labels
        flip_fake = _uniform(keys[3], count, (1,)) < config.flip_labels
        real, fake = jnp.where(flip_real, fake, real), jnp.where(flip_fake, real, fake)
    if config.labels == "real0":
        real, fake = 1.0 - real, 1.0 - fake
    return real, fake


def scale_images(batch_uint8, output: str = "tanh"):
    if output == "sigmoid":
        return batch_uint8.astype(jnp.float32) / 255.0
    return batch_uint8.astype(jnp.float32) / 127.5 - 1.0


# ---- the models ----------------------------------------------------------------------------------------------


class Placement:
    """What the training loop asks of a distribution strategy, on JAX: a scope and the data-set hook."""

    def __init__(self, distribution=None, sharding=None):
        self.distribution, self.sharding = distribution, sharding
        self.num_replicas_in_sync = len(distribution.device_mesh.devices.flat) if distribution else 1

    def scope(self):
        return self.distribution.scope() if self.distribution else contextlib.nullcontext()

    def experimental_distribute_dataset(self, batches):
        return batches  # batches are placed (sharded) per step, in `put`

    def put(self, batch):
        """The global batch on the mesh. Every process holds the same whole batch (a pure function of seed and
        epoch) and hands over only the slices of its own devices, so this works across processes too."""
        if self.sharding is None:
            return jnp.asarray(batch)
        batch = np.asarray(batch)
        return jax.make_array_from_callback(batch.shape, self.sharding, lambda index: batch[index])


def _placement(runtime: Runtime) -> Placement:
    if runtime.replicas <= 1:
        return Placement()
    devices = jax.devices()[: runtime.replicas]
    mesh = keras.distribution.DeviceMesh((len(devices),), ["batch"], devices)
    sharding = jax.sharding.NamedSharding(
        jax.sharding.Mesh(np.array(devices), ("batch",)), jax.sharding.PartitionSpec("batch")
    )
    return Placement(keras.distribution.DataParallel(device_mesh=mesh), sharding)


def _seed_everything(seed: int) -> None:
    """`keras.utils.set_random_seed` without its `tf.random.set_seed`, which would import TensorFlow where it
    is installed: Python's and numpy's global seeds, and Keras' global seed generator reset."""
    import random

    from keras.src.backend.common import global_state
    from keras.src.random import seed_generator
    from keras.src.utils.rng_utils import GLOBAL_RANDOM_SEED

    global_state.set_global_attribute(GLOBAL_RANDOM_SEED, seed)
    global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, None)
    random.seed(seed)
    np.random.seed(seed)


@dataclass
class JaxModels:
    """The two networks, their optimizers and the optional EMA generator, built under one placement."""

    config: GanConfig
    generator: keras.Model
    discriminator: keras.Model
    g_optimizer: keras.optimizers.Optimizer
    d_optimizer: keras.optimizers.Optimizer
    strategy: Placement
    ema_generator: keras.Model | None = None

    @classmethod
    def build(cls, config: GanConfig, runtime: Runtime | None = None) -> "JaxModels":
        runtime = runtime or Runtime("cpu", 1, "fp32", True, 0, True)
        placement = _placement(runtime)
        _seed_everything(config.seed)
        with placement.scope():
            g, d, ema, g_opt, d_opt = build_parts(config, runtime.policy())
        return cls(config, g, d, g_opt, d_opt, placement, ema)

    @property
    def sampler(self) -> keras.Model:
        return self.ema_generator if self.ema_generator is not None else self.generator

    def refresh_sampler(self) -> keras.Model:
        from ganmodels.sampler_stats import refresh_sampler_stats

        return refresh_sampler_stats(self.sampler, self.config)

    def generate(self, z) -> np.ndarray:
        images = np.asarray(local_copy(self.sampler(np.asarray(z, np.float32), training=False)), np.float32)
        return images * 2.0 - 1.0 if self.config.output == "sigmoid" else images


# ---- the step ------------------------------------------------------------------------------------------------


class JaxTrainStep:
    """Compiled pure functions over the state's arrays: the step, and the extra D-only and G-only updates."""

    def __init__(self, models: JaxModels):
        self.models = m = models
        self.lists = {
            "g_tv": m.generator.trainable_variables,
            "g_ntv": m.generator.non_trainable_variables,
            "d_tv": m.discriminator.trainable_variables,
            "d_ntv": m.discriminator.non_trainable_variables,
            "g_opt": m.g_optimizer.variables,
            "d_opt": m.d_optimizer.variables,
        }
        if m.ema_generator is not None:
            self.lists["ema_tv"] = m.ema_generator.trainable_weights
            self.lists["ema_ntw"] = m.ema_generator.non_trainable_weights
            ids = [id(v) for v in m.generator.non_trainable_variables]
            self._g_weight_rows = [ids.index(id(v)) for v in m.generator.non_trainable_weights]
        critic = m.config.n_critic - 1
        self.compiled = jax.jit(partial(self._run, updates=Updates.BOTH, critic_passes=critic))
        self.compiled_d = jax.jit(partial(self._run, updates=Updates.D))
        self.compiled_g = jax.jit(partial(self._run, updates=Updates.G))

    # -- the arrays in and out of the Keras variables
    def read(self) -> dict:
        return {name: [v.value for v in variables] for name, variables in self.lists.items()}

    def write(self, arrays: dict) -> None:
        for name, variables in self.lists.items():
            for v, value in zip(variables, arrays[name], strict=True):
                v.assign(value)

    # -- one pass
    def _losses(self, g_tv, d_tv, s, real, z, step, pass_index, updates: Updates):
        """(d_loss, g_loss) of one forward pass, and the networks' new non-trainable variables."""
        m, cfg = self.models, self.models.config
        g_training = updates.g or cfg.update_order == "joint"
        fake, g_ntv = m.generator.stateless_call(g_tv, s["g_ntv"], z, training=g_training)
        d_ntv = s["d_ntv"]
        fake_seen = diff_augment(fake, cfg.diffaugment, step_key(cfg, step, pass_index, FAKE_AUGMENT))
        if updates.d:
            real_seen = diff_augment(real, cfg.diffaugment, step_key(cfg, step, pass_index, REAL_AUGMENT))
            real_logits, d_ntv = m.discriminator.stateless_call(d_tv, d_ntv, real_seen, training=True)
        fake_logits, d_ntv = m.discriminator.stateless_call(d_tv, d_ntv, fake_seen, training=True)
        loss = loss_named(cfg.loss)
        target = jnp.zeros_like(fake_logits) if cfg.labels == "real0" else jnp.ones_like(fake_logits)
        g_loss = loss.g_loss(fake_logits, target)
        d_loss = jnp.float32(jnp.nan)
        if updates.d:
            if loss.labelled:
                labels = d_labels(cfg, real.shape[0], step_key(cfg, step, pass_index, LABELS))
            else:
                labels = (jnp.ones_like(real_logits), jnp.zeros_like(fake_logits))
            d_loss = loss.d_loss(real_logits, fake_logits, *labels)
            if loss.penalty:
                key = step_key(cfg, step, pass_index, PENALTY)
                penalty, d_ntv = self._penalty(d_tv, d_ntv, real_seen, fake_seen, key)
                d_loss = d_loss + cfg.gp_weight * penalty
        return (d_loss, g_loss), (g_ntv, d_ntv)

    def _penalty(self, d_tv, d_ntv, real, fake, key):
        """Mean of (||grad D(x)|| - 1)^2 at random points between real and fake images (a nested gradient)."""
        eps = _uniform(key, real.shape[0], (1, 1, 1))
        mixed = eps * real + (1.0 - eps) * fake

        def logit_sum(x, ntv):
            logits, ntv = self.models.discriminator.stateless_call(d_tv, ntv, x, training=True)
            return jnp.sum(logits.astype(jnp.float32)), ntv

        grads, d_ntv = jax.grad(logit_sum, has_aux=True)(mixed, d_ntv)
        norms = jnp.sqrt(jnp.sum(jnp.square(grads.astype(jnp.float32)), axis=(1, 2, 3)) + 1e-12)
        return jnp.mean(jnp.square(norms - 1.0)), d_ntv

    def _pass(self, s: dict, real, step, pass_index, latent_pass: int, updates: Updates):
        m = self.models
        z = step_latents(m.config, step, real.shape[0], latent_pass)

        def losses(g_tv, d_tv):
            return self._losses(g_tv, d_tv, s, real, z, step, pass_index, updates)

        (d_loss, g_loss), vjp, (g_ntv, d_ntv) = jax.vjp(losses, s["g_tv"], s["d_tv"], has_aux=True)
        s = {**s, "g_ntv": g_ntv, "d_ntv": d_ntv}
        one, zero = jnp.ones_like(g_loss), jnp.zeros_like(g_loss)
        if updates.d:
            d_grads = vjp((one, zero))[1]
            s["d_tv"], s["d_opt"] = m.d_optimizer.stateless_apply(s["d_opt"], d_grads, s["d_tv"])
        if updates.g:
            g_grads = vjp((zero, one))[0]
            s["g_tv"], s["g_opt"] = m.g_optimizer.stateless_apply(s["g_opt"], g_grads, s["g_tv"])
        return s, jnp.stack([d_loss, g_loss])

    def _ema(self, s: dict, step) -> dict:
        """ema = d * ema + (1 - d) * g (trainable weights), BatchNorm statistics copied (`ganmodels/ema.py`)."""
        step = jnp.asarray(step, jnp.float32)
        d = jnp.minimum(jnp.float32(self.models.config.ema), (1.0 + step) / (10.0 + step))
        ema_tv = [d * e + (1.0 - d) * w for e, w in zip(s["ema_tv"], s["g_tv"], strict=True)]
        return {**s, "ema_tv": ema_tv, "ema_ntw": [s["g_ntv"][i] for i in self._g_weight_rows]}

    def _run(self, s: dict, batch_uint8, step, pass_index=MAIN_PASS, updates=Updates.BOTH, critic_passes: int = 0):
        cfg = self.models.config
        real = scale_images(batch_uint8, cfg.output)
        for k in range(1, critic_passes + 1):
            s, _ = self._pass(s, real, step, k, k, Updates.D)
        if cfg.update_order == "joint" or updates is not Updates.BOTH:
            s, losses = self._pass(s, real, step, pass_index, MAIN_PASS, updates)
        else:
            second = MAIN_PASS if cfg.reuse_noise else SECOND_PASS
            first_updates, then = (Updates.D, Updates.G) if cfg.update_order == "d-then-g" else (Updates.G, Updates.D)
            s, first = self._pass(s, real, step, pass_index, MAIN_PASS, first_updates)
            s, second_losses = self._pass(s, real, step, pass_index, second, then)
            d_loss = first[0] if first_updates is Updates.D else second_losses[0]
            g_loss = first[1] if first_updates is Updates.G else second_losses[1]
            losses = jnp.stack([d_loss, g_loss])
        if updates.g and self.models.ema_generator is not None:
            s = self._ema(s, step)
        return s, losses

    def _call(self, compiled, batch_uint8, step, *args) -> np.ndarray:
        batch = self.models.strategy.put(batch_uint8)
        replicas = self.models.strategy.num_replicas_in_sync
        if batch.shape[0] % replicas:
            raise ValueError(f"batch of {batch.shape[0]} does not split over {replicas} devices: use a multiple")
        arrays, losses = compiled(self.read(), batch, jnp.int32(step), *args)
        self.write(arrays)
        return np.asarray(local_copy(losses))

    def __call__(self, batch_uint8, step) -> np.ndarray:
        return self._call(self.compiled, batch_uint8, step)

    def d_only(self, batch_uint8, step, pass_index: int) -> np.ndarray:
        return self._call(self.compiled_d, batch_uint8, step, jnp.int32(pass_index))

    def g_only(self, batch_uint8, step, pass_index: int) -> np.ndarray:
        return self._call(self.compiled_g, batch_uint8, step, jnp.int32(pass_index))


# ---- the state -----------------------------------------------------------------------------------------------


class HostCounter:
    """A counter kept on the host, read like a TensorFlow variable (`int(c.numpy())`)."""

    def __init__(self, value, dtype):
        self.value = np.array(value, dtype)

    @property
    def shape(self) -> tuple:
        return self.value.shape

    @property
    def dtype(self):
        return self.value.dtype

    def numpy(self) -> np.ndarray:
        return self.value.copy()

    def assign(self, value) -> None:
        self.value = np.array(value, self.value.dtype).reshape(self.value.shape)

    def assign_add(self, value) -> None:
        self.assign(self.value + np.asarray(value, self.value.dtype))


class JaxTrainingState(StateCounters):
    """Models, optimizers and counters of one training run on JAX, with the steps that advance them."""

    def __init__(self, models: JaxModels):
        self.models = models
        self.epoch = HostCounter(0, np.int64)  # completed epochs
        self.step = HostCounter(0, np.int64)
        self.batch_in_epoch = HostCounter(0, np.int64)
        self.loss_sums = HostCounter([0.0, 0.0], np.float64)
        self.extra_steps = HostCounter([0, 0], np.int64)
        self.extra_total = HostCounter([0, 0], np.int64)
        self.train_step = JaxTrainStep(models)

    @classmethod
    def build(cls, config: GanConfig, runtime: Runtime | None = None) -> "JaxTrainingState":
        return cls(JaxModels.build(config, runtime))

    def _step_arg(self) -> int:
        return int(self.step.numpy())
