"""Train-step speed: the classic Keras-2 hobby loop vs `Model.fit` with a `train_step` vs ganflow's trainer.

All three train the same DCGAN (ganmodels.networks) on the same random uint8 data, one after another in
this process, with TensorFlow's threads pinned once for all of them. Each reports images/s as the median
of timed windows after a warm-up. All three run under the same precision: the one ganflow would pick on
this machine (mixed bfloat16 where the CPU has AMX/AVX512-BF16, else float32), or `--precision`. So the
ratios compare the loops, not the number formats; ganflow's float32 and XLA variants are printed too.

The last line is one JSON object: ours_per_s, classic_per_s, fit_per_s, vs_classic, vs_fit, gemm_share,
precision, threads and the CPU model.

    python bench/train_step.py [--size 32] [--batch 64] [--windows 5] [--steps 10] [--precision auto|fp32|bf16]
"""

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ganmodels.config import GanConfig  # noqa: E402
from ganmodels.data import epoch_dataset  # noqa: E402
from ganmodels.networks import build_discriminator, build_generator  # noqa: E402
from ganmodels.runtime import PRECISIONS, Runtime, apply_runtime, dtype_policy, resolve_runtime  # noqa: E402
from ganmodels.state import TrainingState  # noqa: E402
from ganmodels.tf import keras, tf  # noqa: E402


def timed_windows(step, windows: int, steps: int, warmup: int = 3) -> float:
    """Median seconds per step over `windows` windows of `steps` steps, after `warmup` steps."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(windows):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        times.append((time.perf_counter() - start) / steps)
    return statistics.median(times)


def classic_loop(cfg: GanConfig, data: np.ndarray, rng: np.random.Generator):
    """The seeds' loop: `G.predict` for the fakes, D.train_on_batch on real+fake, then a stacked
    frozen-D model's train_on_batch, as the seed repositories wrote it.

    Under Keras 3, `trainable` must be toggled around each call, or D never trains.
    """
    g, d = build_generator(cfg), build_discriminator(cfg)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    d.compile(keras.optimizers.Adam(cfg.lr_d, beta_1=cfg.beta1), bce)
    d.trainable = False
    z_in = keras.Input((cfg.latent_dim,))
    combined = keras.Model(z_in, d(g(z_in)))
    combined.compile(keras.optimizers.Adam(cfg.lr_g, beta_1=cfg.beta1), bce)
    bs = cfg.batch_size
    labels = np.concatenate([np.ones((bs, 1)), np.zeros((bs, 1))]).astype(np.float32)

    def step():
        real = data[rng.integers(0, len(data), bs)].astype(np.float32) / 127.5 - 1
        fake = g.predict(rng.standard_normal((bs, cfg.latent_dim)).astype(np.float32), verbose=0)
        d.trainable = True
        d.train_on_batch(np.concatenate([real, fake]), labels)
        d.trainable = False
        combined.train_on_batch(rng.standard_normal((bs, cfg.latent_dim)).astype(np.float32), labels[:bs])

    before = d.get_weights()[0].copy()
    step()
    assert not np.array_equal(before, d.get_weights()[0]), "the classic loop did not train D"
    return step


class FitGAN(keras.Model):
    """The Keras 'DCGAN to generate face images' example: the model owns its train_step, G runs twice."""

    def __init__(self, cfg: GanConfig):
        super().__init__()
        self.cfg, self.g, self.d = cfg, build_generator(cfg), build_discriminator(cfg)
        self.bce = keras.losses.BinaryCrossentropy(from_logits=True)

    def compile(self):
        super().compile()
        self.d_opt = keras.optimizers.Adam(self.cfg.lr_d, beta_1=self.cfg.beta1)
        self.g_opt = keras.optimizers.Adam(self.cfg.lr_g, beta_1=self.cfg.beta1)

    def train_step(self, real_uint8):
        real = tf.cast(real_uint8, tf.float32) / 127.5 - 1
        bs = tf.shape(real)[0]
        fake = self.g(tf.random.normal((bs, self.cfg.latent_dim)))
        images = tf.concat([real, fake], 0)
        labels = tf.concat([tf.ones((bs, 1)), tf.zeros((bs, 1))], 0)
        with tf.GradientTape() as tape:
            d_loss = self.bce(labels, self.d(images, training=True))
        d_vars = self.d.trainable_weights
        self.d_opt.apply_gradients(zip(tape.gradient(d_loss, d_vars), d_vars, strict=True))
        with tf.GradientTape() as tape:
            g_loss = self.bce(
                tf.ones((bs, 1)), self.d(self.g(tf.random.normal((bs, self.cfg.latent_dim))), training=True)
            )
        g_vars = self.g.trainable_weights
        self.g_opt.apply_gradients(zip(tape.gradient(g_loss, g_vars), g_vars, strict=True))
        return {"d_loss": d_loss, "g_loss": g_loss}


def fit_seconds_per_step(cfg: GanConfig, data: np.ndarray, windows: int, steps: int) -> float:
    """Model.fit, one epoch per timed window (the callback timings exclude nothing fit itself does)."""
    model = FitGAN(cfg)
    model.compile()
    ds = tf.data.Dataset.from_tensor_slices(data).repeat().batch(cfg.batch_size, drop_remainder=True).prefetch(2)
    times: list[float] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append((time.perf_counter() - self.start) / steps)

    model.fit(ds, epochs=windows + 1, steps_per_epoch=steps, verbose=0, callbacks=[Timer()])
    return statistics.median(times[1:])  # the first epoch traces and warms up


def ours_seconds_per_step(cfg: GanConfig, runtime: Runtime, data: np.ndarray, windows: int, steps: int) -> float:
    state = TrainingState.build(cfg, runtime)
    batches = iter(epoch_dataset(data, cfg.batch_size, cfg.seed, 1).repeat())
    return timed_windows(lambda: state.train_batch(next(batches)), windows, steps)


def _forward_flops(model: keras.Model) -> int:
    """Multiply-adds x 2 of the convolutions, transposed convolutions and dense layers, per image."""
    flops = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2DTranspose):
            h, w, c_in = layer.input.shape[1:]
            flops += 2 * h * w * c_in * layer.filters * int(np.prod(layer.kernel_size))
        elif isinstance(layer, keras.layers.Conv2D):
            h, w, _ = layer.output.shape[1:]
            flops += 2 * h * w * layer.input.shape[-1] * layer.filters * int(np.prod(layer.kernel_size))
        elif isinstance(layer, keras.layers.Dense):
            flops += 2 * layer.input.shape[-1] * layer.units
    return flops


def train_flops_per_image(cfg: GanConfig) -> int:
    """G forward once, D forward twice; backward: D weights+inputs on both passes, D inputs and G on the fake.

    That is 3 G + 7 D forward-equivalents (a backward pass costs about two forwards).
    """
    return 3 * _forward_flops(build_generator(cfg)) + 7 * _forward_flops(build_discriminator(cfg))


def gemm_flops_per_s(dtype, n: int = 4096, reps: int = 5) -> float:
    a = tf.cast(tf.random.normal((n, n)), dtype)
    tf.matmul(a, a).numpy()
    start = time.perf_counter()
    for _ in range(reps):
        out = tf.matmul(a, a)
    out.numpy()
    return 2 * n**3 * reps / (time.perf_counter() - start)


def cpu_model() -> str:
    """The CPU's model name, so a printed figure says what it was measured on."""
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
    except OSError:
        names = []
    return names[0] if names else platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument(
        "--precision", choices=PRECISIONS, default="auto", help="of all three loops; auto: what ganflow picks here"
    )
    args = parser.parse_args()

    runtime = resolve_runtime(precision=args.precision)
    apply_runtime(runtime)
    tf.random.set_seed(0)  # stateful random ops need a seed once op determinism is on
    cfg = GanConfig(size=args.size, channels=3, batch_size=args.batch)
    rng = np.random.default_rng(0)
    data = rng.integers(0, 256, (args.batch * 16, args.size, args.size, 3), dtype=np.uint8)
    print(
        f"{cpu_model()}; {args.size} px, batch {args.batch}, {runtime.threads} threads, "
        f"all three in {runtime.precision}, jit {runtime.jit}"
    )

    results = {}
    with dtype_policy(runtime.policy()):  # the same number format as ganflow's trainer: like with like
        results["classic"] = args.batch / timed_windows(classic_loop(cfg, data, rng), args.windows, args.steps)
        print(f"(a) classic train_on_batch loop: {results['classic']:8.0f} img/s", flush=True)
        results["fit"] = args.batch / fit_seconds_per_step(cfg, data, args.windows, args.steps)
        print(f"(b) Model.fit + train_step:      {results['fit']:8.0f} img/s", flush=True)
    results["ours"] = args.batch / ours_seconds_per_step(cfg, runtime, data, args.windows, args.steps)
    print(f"(c) ganflow trainer ({runtime.precision}):      {results['ours']:8.0f} img/s", flush=True)
    for name, variant in [("fp32", {"precision": "fp32", "jit": False}), ("jit", {"jit": True})]:
        alt = Runtime(**{**runtime.to_dict(), **variant})
        # XLA on CPU is so slow here that one short window tells enough
        windows, steps = (1, 3) if name == "jit" else (args.windows, args.steps)
        per_s = args.batch / ours_seconds_per_step(cfg, alt, data, windows, steps)
        results[f"ours_{name}"] = per_s
        print(f"    ganflow trainer, {name:<12}  {per_s:8.0f} img/s", flush=True)

    flops = train_flops_per_image(cfg)
    peak = gemm_flops_per_s(tf.bfloat16 if runtime.precision == "bf16" else tf.float32)
    achieved = results["ours"] * flops
    print(
        f"train FLOPs per image {flops / 1e9:.2f} G; ours {achieved / 1e9:.0f} GFLOP/s; "
        f"{runtime.precision} GEMM {peak / 1e9:.0f} GFLOP/s"
    )
    summary = {
        "ours_per_s": round(results["ours"], 1),
        "classic_per_s": round(results["classic"], 1),
        "fit_per_s": round(results["fit"], 1),
        "vs_classic": round(results["ours"] / results["classic"], 2),
        "vs_fit": round(results["ours"] / results["fit"], 2),
        "gemm_share": round(achieved / peak, 3),
        "ours_fp32_per_s": round(results["ours_fp32"], 1),
        "ours_jit_per_s": round(results["ours_jit"], 1),
        "precision": runtime.precision,
        "threads": runtime.threads,
        "cpu": cpu_model(),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
