"""Where and how training runs: devices, precision, XLA, threads and determinism, chosen per machine.

Measured on a 2-core CPU with AMX: mixed bfloat16 trains about 2.7x faster than float32 and XLA was
slower, while on GPUs XLA usually wins. `auto` picks accordingly; every choice can be overridden and
is recorded with the run, because results (bit for bit) depend on all of them.

On JAX the devices are `jax.devices()` (replicas: how many of them the run uses, through
`keras.distribution.DataParallel`), the step is always compiled by XLA (`jit` is recorded as on), `auto`
precision is bf16 on GPUs only (XLA's CPU bfloat16 convolutions are slow), and `threads` is recorded but
not applied: XLA's CPU client sizes its own thread pool from the cores it sees (Eigen intra-op threads),
with no per-process setting after start-up; pin the cores with `taskset` instead.
Its CPU kernels are deterministic for a fixed device count; GPU reductions may not be.
"""

import contextlib
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from ganmodels.keras_import import BACKEND, keras

PRECISIONS = ("auto", "fp32", "bf16")
SWITCHES = ("auto", "on", "off")


@dataclass(frozen=True)
class Runtime:
    """The resolved runtime choices of one training process."""

    device: str  # "cpu" or "gpu"
    replicas: int
    precision: str  # "fp32" or "bf16"
    jit: bool
    threads: int  # intra-op threads; 0 means TensorFlow's own choice (GPU)
    deterministic: bool

    def to_dict(self) -> dict:
        return asdict(self)

    def policy(self) -> str:
        return "mixed_bfloat16" if self.precision == "bf16" else "float32"


def cpu_supports_bf16() -> bool:
    """AMX or AVX512-BF16 make bfloat16 matrix work several times faster than float32."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def gpu_supports_bf16(gpus: list) -> bool:
    """bfloat16 tensor cores arrived with compute capability 8.0 (Ampere)."""
    from ganmodels.tf import tf

    for gpu in gpus:
        capability = tf.config.experimental.get_device_details(gpu).get("compute_capability", (0, 0))
        if tuple(capability) < (8, 0):
            return False
    return bool(gpus)


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def resolve_runtime(
    precision: str = "auto",
    jit: str = "auto",
    threads: int | None = None,
    deterministic: str = "auto",
    devices: int | None = None,
) -> Runtime:
    """Turn the user's `auto`/explicit choices into concrete ones for this machine."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}")
    if BACKEND == "jax":
        return _resolve_jax(precision, jit, threads, deterministic, devices)
    from ganmodels.tf import tf

    gpus = tf.config.list_physical_devices("GPU")
    device = "gpu" if gpus else "cpu"
    # Listing logical devices starts TensorFlow's runtime, after which thread pools are fixed: only when needed.
    visible = len(gpus) if gpus else (len(tf.config.list_logical_devices("CPU")) if (devices or 1) > 1 else 1)
    replicas = devices if devices else (len(gpus) if len(gpus) > 1 else 1)
    if replicas > max(visible, 1):
        raise ValueError(f"--devices {replicas}: only {visible} {device.upper()} device(s) visible")
    if precision == "auto":
        precision = "bf16" if (gpu_supports_bf16(gpus) if gpus else cpu_supports_bf16()) else "fp32"
    use_jit = {"on": True, "off": False}.get(jit, device == "gpu")
    # GPU kernels (atomics in cuDNN) are not bit-exact by default; CPU kernels are, with pinned threads.
    is_deterministic = {"on": True, "off": False}.get(deterministic, device == "cpu")
    if threads is None:
        threads = available_cores() if device == "cpu" else 0
    return Runtime(device, replicas, precision, use_jit, threads, is_deterministic)


def _resolve_jax(precision: str, jit: str, threads: int | None, deterministic: str, devices: int | None) -> Runtime:
    """The JAX side of `resolve_runtime`: devices from `jax.devices()`, XLA always."""
    import jax

    found = jax.devices()
    device = "gpu" if found[0].platform == "gpu" else "cpu"
    replicas = devices if devices else len(found)
    if replicas > len(found):
        raise ValueError(f"--devices {replicas}: only {len(found)} {device.upper()} device(s) visible to JAX")
    if jax.process_count() > 1 and replicas != len(found):
        raise ValueError(
            f"--devices {replicas}: across {jax.process_count()} processes a run trains on all {len(found)} "
            "devices of all of them; leave --devices unset"
        )
    if precision == "auto":
        # XLA's CPU backend has no fast bfloat16 convolutions (measured: ~20x slower than float32 on AMX),
        # so `auto` picks bf16 on Ampere-or-later GPUs only; `--precision bf16` still forces it.
        precision = "bf16" if device == "gpu" and _jax_gpu_bf16(found) else "fp32"
    is_deterministic = {"on": True, "off": False}.get(deterministic, device == "cpu")
    if threads is None:
        threads = available_cores() if device == "cpu" else 0
    return Runtime(device, replicas, precision, True, threads, is_deterministic)  # XLA always, `jit` whatever


def _jax_gpu_bf16(found: list) -> bool:
    """bfloat16 tensor cores arrived with compute capability 8.0 (Ampere)."""
    capabilities = [getattr(d, "compute_capability", "0.0") for d in found]
    return all(tuple(int(p) for p in str(c).split(".")[:2]) >= (8, 0) for c in capabilities)


def apply_runtime(runtime: Runtime) -> list[str]:
    """Configure TensorFlow and Keras for `runtime`; return warnings about what could not be applied.

    Thread counts can only be set before TensorFlow starts executing; a process that already ran
    TensorFlow ops keeps its pools, which the warning reports. On JAX nothing needs setting here:
    the device count is the distribution the models are built under (`ganmodels.backends.jax`).
    """
    if BACKEND == "jax":
        return []
    from ganmodels.tf import tf

    warnings = []
    if runtime.threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(runtime.threads)
            tf.config.threading.set_inter_op_parallelism_threads(min(2, runtime.threads))
        except RuntimeError:
            current = tf.config.threading.get_intra_op_parallelism_threads()
            if current != runtime.threads:
                warnings.append(
                    f"TensorFlow was already running with {current or 'default'} intra-op threads, "
                    f"not {runtime.threads}; results may differ in the last bits from a fresh process"
                )
    if runtime.deterministic:
        tf.config.experimental.enable_op_determinism()
    return warnings


@contextlib.contextmanager
def dtype_policy(name: str) -> Iterator[None]:
    """Build layers under a Keras dtype policy without leaving it set for the rest of the process."""
    previous = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_dtype_policy(previous)


def distribution_strategy(runtime: Runtime):
    """Mirror across devices when there are several; the default strategy (no-op) otherwise (TensorFlow)."""
    from ganmodels.tf import tf

    if runtime.replicas <= 1:
        return tf.distribute.get_strategy()
    kind = "GPU" if runtime.device == "gpu" else "CPU"
    names = [d.name for d in tf.config.list_logical_devices(kind)][: runtime.replicas]
    return tf.distribute.MirroredStrategy(names)
