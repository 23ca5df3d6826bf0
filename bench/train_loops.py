"""Train-step speed: the classic Keras-2 hobby loop vs `Model.fit` with a `train_step` vs ganflow's trainer.

All three train the same DCGAN (ganmodels.networks) on the same random uint8 data, one after another in
this process, with TensorFlow's threads pinned once for all of them. Each reports images/s as the median
of timed windows after a warm-up; the windows of the three loops are interleaved, so load from other
jobs on the machine falls on all of them alike. All three run under the same precision: the one ganflow would pick on
this machine (mixed bfloat16 where the CPU has AMX/AVX512-BF16, else float32), or `--precision`. So the
ratios compare the loops, not the number formats; ganflow's float32 and XLA variants are printed too.

Besides images per second (wall clock), each loop reports images per CPU-second of this process: on a
machine shared with other jobs, wall-clock rates fall with the load while CPU cost hardly moves.

The last line is one JSON object: ours_per_s, classic_per_s, fit_per_s, vs_classic, vs_fit (wall clock),
per_cpu_s, cpu_vs_classic, cpu_vs_fit (CPU time), gemm_share, precision, threads and the CPU model.

    python bench/train_step.py --loops [--size 32] [--batch 64] [--windows 5] [--steps 10]
                                       [--precision auto|fp32|bf16] [--no-jit]
    (or python bench/train_loops.py ...; bench/train_step.py without --loops compares the backends)
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.figures import cpu_model, forward_flops  # noqa: E402
from ganmodels.config import GanConfig  # noqa: E402
from ganmodels.data import epoch_dataset  # noqa: E402
from ganmodels.networks import build_discriminator, build_generator  # noqa: E402
from ganmodels.runtime import PRECISIONS, Runtime, apply_runtime, dtype_policy, resolve_runtime  # noqa: E402
from ganmodels.state import TrainingState  # noqa: E402
from ganmodels.tf import keras, tf  # noqa: E402


def window_timer(step, steps: int, warmup: int = 3):
    """Warm `step` up, then return a function that times one window of `steps` steps: (wall, CPU) seconds
    per step. CPU seconds count every thread of this process, so they say what a step costs even while
    other jobs share the cores (wall time then grows, CPU time hardly)."""
    for _ in range(warmup):
        step()

    def window() -> tuple[float, float]:
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(steps):
            step()
        return (time.perf_counter() - start) / steps, (time.process_time() - cpu) / steps

    return window


def interleaved_medians(windows: dict, rounds: int) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds per step of each variant, one window of each in turn, `rounds` times.

    The host is shared: a load that comes and goes then slows every variant alike, instead of
    whichever happened to run at that moment.
    """
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in windows}
    for _ in range(rounds):
        for name, window in windows.items():
            times[name].append(window())
    return {name: (statistics.median(w for w, _ in t), statistics.median(c for _, c in t)) for name, t in times.items()}


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


def fit_window(cfg: GanConfig, data: np.ndarray, steps: int):
    """Model.fit: one `fit` call of one epoch per window, timed by a callback from the epoch's start to its
    end (what fit does per step, not its set-up). The first call traces and warms up."""
    model = FitGAN(cfg)
    model.compile()
    ds = tf.data.Dataset.from_tensor_slices(data).repeat().batch(cfg.batch_size, drop_remainder=True).prefetch(2)
    times: list[tuple[float, float]] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start, self.cpu = time.perf_counter(), time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            times.append(((time.perf_counter() - self.start) / steps, (time.process_time() - self.cpu) / steps))

    def window() -> tuple[float, float]:
        model.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0, callbacks=[Timer()])
        return times[-1]

    window()
    return window


def ours_window(cfg: GanConfig, runtime: Runtime, data: np.ndarray, steps: int):
    state = TrainingState.build(cfg, runtime)
    batches = iter(epoch_dataset(data, cfg.batch_size, cfg.seed, 1).repeat())
    return window_timer(lambda: state.train_batch(next(batches)), steps)


def train_flops_per_image(cfg: GanConfig) -> int:
    """G forward once, D forward twice; backward: D weights+inputs on both passes, D inputs and G on the fake.

    That is 3 G + 7 D forward-equivalents (a backward pass costs about two forwards).
    """
    return 3 * forward_flops(build_generator(cfg)) + 7 * forward_flops(build_discriminator(cfg))


def gemm_flops_per_s(dtype, n: int = 4096, reps: int = 5) -> float:
    a = tf.cast(tf.random.normal((n, n)), dtype)
    tf.matmul(a, a).numpy()
    start = time.perf_counter()
    for _ in range(reps):
        out = tf.matmul(a, a)
    out.numpy()
    return 2 * n**3 * reps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--windows", type=int, default=5, help="timed windows of each loop, interleaved")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument(
        "--precision", choices=PRECISIONS, default="auto", help="of all three loops; auto: what ganflow picks here"
    )
    parser.add_argument("--no-jit", action="store_true", help="skip the (slow on CPU) XLA variant")
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

    with dtype_policy(runtime.policy()):  # the same number format as ganflow's trainer: like with like
        windows = {"classic": window_timer(classic_loop(cfg, data, rng), args.steps)}
        windows["fit"] = fit_window(cfg, data, args.steps)
    windows["ours"] = ours_window(cfg, runtime, data, args.steps)
    if runtime.precision != "fp32":
        windows["ours_fp32"] = ours_window(cfg, Runtime(**{**runtime.to_dict(), "precision": "fp32"}), data, args.steps)
    per_step = interleaved_medians(windows, args.windows)
    results = {name: args.batch / wall for name, (wall, _) in per_step.items()}
    cpu_per_s = {name: args.batch / cpu for name, (_, cpu) in per_step.items()}  # images per CPU-second
    results.setdefault("ours_fp32", results["ours"])
    cpu_per_s.setdefault("ours_fp32", cpu_per_s["ours"])
    for label, name in [("(a) classic train_on_batch loop", "classic"), ("(b) Model.fit + train_step", "fit")]:
        print(f"{label + ':':<33}{results[name]:8.0f} img/s  {cpu_per_s[name]:8.0f} img per CPU-second")
    for label, name in [("(c) ganflow trainer", "ours"), ("    ganflow trainer, fp32", "ours_fp32")]:
        print(f"{label + ':':<33}{results[name]:8.0f} img/s  {cpu_per_s[name]:8.0f} img per CPU-second")
    if not args.no_jit:  # XLA on CPU is so slow that one short window tells enough
        jit = Runtime(**{**runtime.to_dict(), "jit": True})
        results["ours_jit"] = args.batch / ours_window(cfg, jit, data, 3)()[0]
        print(f"    ganflow trainer, XLA:        {results['ours_jit']:8.0f} img/s", flush=True)

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
        "per_cpu_s": {name: round(v, 1) for name, v in cpu_per_s.items()},
        "cpu_vs_classic": round(cpu_per_s["ours"] / cpu_per_s["classic"], 2),
        "cpu_vs_fit": round(cpu_per_s["ours"] / cpu_per_s["fit"], 2),
        "ours_jit_per_s": round(results["ours_jit"], 1) if "ours_jit" in results else None,
        "precision": runtime.precision,
        "threads": runtime.threads,
        "cpu": cpu_model(),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
