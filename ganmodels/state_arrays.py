"""A training state as named numpy arrays, the same names on every backend: what `.npz` checkpoints hold.

`tf.train.Checkpoint` reaches TensorFlow variables only; on JAX the state is plain arrays. So each state
lists its variables under stable names: the position in the model's weights or the optimizer's variables
(Keras' own variable names carry per-process counters such as `dense_3`), with the shape checked on load.

    generator/0000 ...       every weight of G (trainable, then BatchNorm statistics), in `model.weights` order
    discriminator/0000 ...   D's, likewise; ema_generator/0000 ... the EMA generator's, when there is one
    g_optimizer/0000 ...     G's optimizer: iteration count, then its slots (Adam's moments), in Keras' order
    d_optimizer/0000 ...     D's optimizer
    dropout_seeds/0000 ...   the Dropout layers' seed-generator states, D's then G's
    counters/<name>          epoch, step, batch_in_epoch, loss_sums, extra_steps, extra_total
"""

import numpy as np

COUNTERS = ("epoch", "step", "batch_in_epoch", "loss_sums", "extra_steps", "extra_total")
# Arrays a state may lack and still load: the balance counts start at zero, the EMA generator as a copy of G.
OPTIONAL = ("counters/extra_steps", "counters/extra_total")


def seed_states(model) -> list:
    """The Dropout layers' seed-generator state variables (not among `model.weights`)."""
    return [layer.seed_generator.state for layer in model.layers if getattr(layer, "seed_generator", None)]


def _dtype(variable):
    """A numpy dtype for a Keras variable (a name) or a TensorFlow one (a tf.DType)."""
    return np.dtype(getattr(variable.dtype, "as_numpy_dtype", variable.dtype))


def _numbered(prefix: str, variables) -> dict:
    return {f"{prefix}/{i:04d}": v for i, v in enumerate(variables)}


def named_variables(models, counters: dict) -> dict:
    """name -> variable (anything with `.numpy()` and `.assign()`) for every part of a training state."""
    named = {
        **_numbered("generator", models.generator.weights),
        **_numbered("discriminator", models.discriminator.weights),
        **_numbered("g_optimizer", models.g_optimizer.variables),
        **_numbered("d_optimizer", models.d_optimizer.variables),
        **_numbered("dropout_seeds", seed_states(models.discriminator) + seed_states(models.generator)),
    }
    if models.ema_generator is not None:
        named.update(_numbered("ema_generator", models.ema_generator.weights))
    named.update({f"counters/{name}": counters[name] for name in COUNTERS})
    return named


def to_arrays(named: dict) -> dict[str, np.ndarray]:
    return {name: np.array(v.numpy()) for name, v in named.items()}


def check_arrays(named: dict, arrays: dict) -> None:
    """Raise ValueError naming what `arrays` lacks or holds in the wrong shape (EMA and balance counts may lack)."""
    missing = [n for n in named if n not in arrays and n not in OPTIONAL and not n.startswith("ema_generator/")]
    extra = [n for n in arrays if n not in named and not n.startswith("ema_generator/")]
    wrong = [
        f"{n} {tuple(np.shape(arrays[n]))} (needs {tuple(v.shape)})"
        for n, v in named.items()
        if n in arrays and tuple(np.shape(arrays[n])) != tuple(v.shape)
    ]
    problems = []
    if missing:
        problems.append(f"missing {_listing(missing)}")
    if extra:
        problems.append(f"unexpected {_listing(extra)}")
    if wrong:
        problems.append(f"wrong shape {_listing(wrong)}")
    if problems:
        raise ValueError("checkpoint arrays do not fit this model: " + "; ".join(problems))


def _listing(names: list[str], limit: int = 4) -> str:
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def load_arrays(named: dict, arrays: dict, ema=None, generator=None) -> None:
    """Assign every array to its variable after `check_arrays`; a missing EMA generator starts as a copy of G."""
    check_arrays(named, arrays)
    for name, variable in named.items():
        if name in arrays:
            variable.assign(np.asarray(arrays[name]).astype(_dtype(variable)))
        elif name.startswith("counters/"):
            variable.assign(np.zeros(tuple(variable.shape), _dtype(variable)))
    if ema is not None and "ema_generator/0000" not in arrays:
        for e, g in zip(ema.weights, generator.weights, strict=True):
            e.assign(g.numpy())


def load_generator_arrays(generator, arrays: dict, key: str = "generator") -> None:
    """Set a built generator's weights from a state's arrays (`key`: "generator" or "ema_generator")."""
    named = _numbered(key, generator.weights)
    missing = [n for n in named if n not in arrays]
    if missing:
        raise ValueError(f"checkpoint arrays hold no {key} weights ({_listing(missing)} missing)")
    wrong = [n for n, v in named.items() if tuple(np.shape(arrays[n])) != tuple(v.shape)]
    if wrong:
        raise ValueError(f"checkpoint arrays' {key} does not fit this generator: wrong shape {_listing(wrong)}")
    for name, variable in named.items():
        variable.assign(np.asarray(arrays[name]).astype(_dtype(variable)))
