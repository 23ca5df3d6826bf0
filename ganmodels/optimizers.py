"""The optimizers as Keras 2 and the seeds had them, built the same way on every backend."""

from ganmodels.config import GanConfig
from ganmodels.keras_import import keras


def build_optimizer(config: GanConfig, learning_rate: float, decay: float = 0.0) -> keras.optimizers.Optimizer:
    """Adam or RMSprop as Keras 2 and the seeds had them.

    `decay` is Keras 2's lr / (1 + decay * iterations), `clipvalue` clips each gradient. `epsilon` is Keras 2's,
    added to the root of the mean square: Keras 3's Adam does the same, but its RMSprop adds epsilon under the
    root, whose floor (sqrt(1e-7) = 3e-4) would shrink most steps of a 32 px G several times. Passing epsilon²
    keeps sqrt(v + eps²) within sqrt(2) of Keras 2's sqrt(v) + eps, and equal where v is far from eps².
    """
    rate = keras.optimizers.schedules.InverseTimeDecay(learning_rate, 1, decay) if decay else learning_rate
    clip = {"clipvalue": config.clipvalue} if config.clipvalue else {}
    if config.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(rate, rho=0.9, epsilon=config.epsilon**2, **clip)
    return keras.optimizers.Adam(rate, beta_1=config.beta1, beta_2=config.beta2, epsilon=config.epsilon, **clip)
