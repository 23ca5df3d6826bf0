"""What differs per Keras backend, one module each, as Keras keeps backend/tensorflow/trainer.py beside
backend/jax/trainer.py: how gradients are taken (the WGAN-GP penalty's nested one too), how the step is
compiled, the stateless random draws, and device placement. `tensorflow` holds the TensorFlow training
state over `ganmodels.train_step` (tf.function, GradientTape, tf.random stateless ops, tf.distribute),
unchanged so TensorFlow runs stay bit-identical; `jax` the JAX one (jax.jit, jax.vjp, jax.random keys,
keras.distribution). Import only the one of the process's backend: the other's framework may be absent.
"""
