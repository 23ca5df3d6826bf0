"""The TensorFlow training state: everything a resumed run needs to continue exactly, as one `tf.train.Checkpoint`.

It holds both networks and optimizers, the EMA generator when there is one, the epoch, the global
step, the position inside the epoch, the running loss sums of the epoch, the balance rule's counts
of extra updates, and the Dropout layers' seed states: Keras 3 Dropout draws from its own seed
generator, which `tf.train.Checkpoint` does not reach through the model. The shuffle order and all
other random draws are pure functions of (seed, epoch) and (seed, step), so they need no state.
The same state as named numpy arrays (`to_arrays`, `load_arrays`) is `ganmodels.state_arrays`'.
"""


from ganmodels.config import GanConfig
from ganmodels.ema import copy_weights
from ganmodels.runtime import Runtime
from ganmodels.state_arrays import seed_states
from ganmodels.state_counters import StateCounters
from ganmodels.tf import tf
from ganmodels.train_step import GanModels, TrainStep

# Objects added to the checkpoint after its first format: a checkpoint without them still restores,
# with the counts at zero and the EMA generator starting from G.
LATER_OBJECTS = ("extra_steps", "extra_total", "ema_generator")


class TrainingState(StateCounters):
    """Models, optimizers and counters of one training run, with the steps that advance them."""

    def __init__(self, models: GanModels, jit: bool = False):
        self.models = models
        with models.strategy.scope():
            self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")  # completed epochs
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            self.batch_in_epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="batch_in_epoch")
            self.loss_sums = tf.Variable([0.0, 0.0], dtype=tf.float64, trainable=False, name="loss_sums")
            # Extra (D, G) updates from the balance rule: in this epoch, and in the whole run.
            self.extra_steps = tf.Variable([0, 0], dtype=tf.int64, trainable=False, name="extra_steps")
            self.extra_total = tf.Variable([0, 0], dtype=tf.int64, trainable=False, name="extra_total")
        self.train_step = TrainStep(models, jit=jit)
        self.objects = {
            "generator": models.generator,
            "discriminator": models.discriminator,
            "g_optimizer": models.g_optimizer,
            "d_optimizer": models.d_optimizer,
            "epoch": self.epoch,
            "step": self.step,
            "batch_in_epoch": self.batch_in_epoch,
            "loss_sums": self.loss_sums,
            "dropout_seeds": seed_states(models.discriminator) + seed_states(models.generator),
            "extra_steps": self.extra_steps,
            "extra_total": self.extra_total,
        }
        if models.ema_generator is not None:
            self.objects["ema_generator"] = models.ema_generator
        self.checkpoint = tf.train.Checkpoint(**self.objects)

    @classmethod
    def build(cls, config: GanConfig, runtime: Runtime | None = None) -> "TrainingState":
        return cls(GanModels.build(config, runtime), jit=bool(runtime and runtime.jit))

    def restore(self, path: str) -> None:
        """Load a checkpoint; every object it should hold must be there, except those it may predate.

        An EMA generator the config no longer asks for is ignored; one it now asks for but the
        checkpoint lacks starts as a copy of G.
        """
        present = {name.split("/")[0] for name, _ in tf.train.list_variables(path)}
        objects = {k: v for k, v in self.objects.items() if k in present or k not in LATER_OBJECTS}
        status = tf.train.Checkpoint(**objects).read(path)
        status.expect_partial()
        status.assert_existing_objects_matched()
        if self.models.ema_generator is not None and "ema_generator" not in present:
            copy_weights(self.models.generator, self.models.ema_generator)

    def _add_losses(self, losses) -> None:
        self.loss_sums.assign_add(tf.cast(losses, tf.float64))
