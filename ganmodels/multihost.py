"""Training on JAX across several processes (hosts): joining them, and reading replicated values back.

Every process runs the same `ganflow run --backend jax ...` with JAX_COORDINATOR_ADDRESS=host:port,
JAX_NUM_PROCESSES=N and JAX_PROCESS_ID=i (0..N-1). `join_processes` calls `jax.distributed.initialize`
once, before anything else touches JAX; after it `jax.devices()` lists every process's devices, so the
data-parallel mesh (`ganmodels.backends.jax`) spans them all and XLA's all-reduce crosses processes.

A value replicated over such a mesh is not fully addressable from one process, so `np.array` of it (what
Keras' `variable.numpy()`, saving and `convert_to_numpy` do) refuses; every process holds a whole copy,
so `local_copy` reads that one, and `join_processes` makes Keras' variables and `convert_to_numpy` do so.
"""

import os

ENV = ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID")
_joined: tuple[int, int] | None = None


def requested() -> bool:
    """Whether this process was started as one of several (any of the variables set)."""
    return any(os.environ.get(name) for name in ENV)


def problem(backend: str) -> str | None:
    """One line saying what is wrong with the variables for a run on `backend`, or None (also when unset)."""
    if not requested():
        return None
    if backend != "jax":
        return f"{', '.join(ENV)} are set: training across processes needs --backend jax"
    try:
        _settings()
    except ValueError as exc:
        return str(exc)
    return None


def _settings() -> tuple[str, int, int]:
    """(address, processes, id) from the environment; ValueError, one line, on a missing or wrong value."""
    missing = [name for name in ENV if not os.environ.get(name)]
    if missing:
        raise ValueError(f"training across processes needs all of {', '.join(ENV)}; {', '.join(missing)} not set")
    address = os.environ["JAX_COORDINATOR_ADDRESS"]
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"JAX_COORDINATOR_ADDRESS={address!r}: expected host:port of process 0 (e.g. 10.0.0.1:1234)")
    numbers = {}
    for name in ENV[1:]:
        value = os.environ[name]
        if not value.isdigit():
            raise ValueError(f"{name}={value!r}: expected a whole number")
        numbers[name] = int(value)
    processes, index = numbers["JAX_NUM_PROCESSES"], numbers["JAX_PROCESS_ID"]
    if processes < 1 or index >= processes:
        raise ValueError(
            f"JAX_PROCESS_ID={index} with JAX_NUM_PROCESSES={processes}: the id must be 0..{processes - 1}"
        )
    return address, processes, index


def join_processes() -> tuple[int, int]:
    """Join the N processes named by the environment (once per process); return (processes, this one's id)."""
    global _joined
    if _joined is not None:
        return _joined
    if not requested():
        _joined = (1, 0)
        return _joined
    address, processes, index = _settings()
    import jax

    jax.distributed.initialize(coordinator_address=address, num_processes=processes, process_id=index)
    _read_replicated_locally()
    _joined = (processes, index)
    return _joined


def local_copy(x):
    """A fully replicated array that spans other processes' devices: this process's copy; else `x`."""
    import jax

    if isinstance(x, jax.Array) and not x.is_fully_addressable:
        if not x.sharding.is_fully_replicated:
            raise ValueError(f"an array of shape {x.shape} is split across processes: it cannot be read on one")
        return x.addressable_data(0)
    return x


def _read_replicated_locally() -> None:
    """Keras reads variables and tensors with `np.array`: make it read the local copy of replicated ones."""
    import numpy as np
    from keras.src.backend.jax import core

    to_numpy = core.convert_to_numpy

    def convert_to_numpy(x):
        return to_numpy(local_copy(x))

    def variable_array(self, dtype=None, copy=None):
        return np.asarray(local_copy(self.value), dtype=dtype)

    core.convert_to_numpy = convert_to_numpy
    core.Variable.__array__ = variable_array
    import keras.src.backend as backend

    if getattr(backend, "convert_to_numpy", None) is to_numpy:
        backend.convert_to_numpy = convert_to_numpy


def processes() -> int:
    """How many processes this run trains across (1 unless `join_processes` joined several)."""
    return _joined[0] if _joined else 1


def newest_in_all(steps: list[int], most: int = 64) -> int | None:
    """The newest of `steps` (this process's checkpoints) that every process holds, None if there is none.

    Processes killed together may have saved one checkpoint more or less; they must continue from the same
    step, or their collectives would not match. Collective: every process calls it at the same point."""
    if processes() == 1:
        return max(steps, default=None)
    import numpy as np
    from jax.experimental import multihost_utils

    mine = np.full((most,), -1, np.int64)
    newest = sorted(steps, reverse=True)[:most]
    mine[: len(newest)] = newest
    everyone = np.asarray(multihost_utils.process_allgather(mine))
    common = set(everyone[0].tolist())
    for row in everyone[1:]:
        common &= set(row.tolist())
    common.discard(-1)
    return max(common, default=None)
