"""The numbers that name a training step's random streams (purposes and passes), shared by both backends'
stream implementations (`ganmodels/streams.py` on TensorFlow, `ganmodels/backends/jax.py` on JAX)."""

LATENTS, LABELS, REAL_AUGMENT, FAKE_AUGMENT, PENALTY = range(1, 6)
MAIN_PASS = 0
BALANCE_D_PASS = 1000  # + k for the k-th extra D update of a step
BALANCE_G_PASS = 2000
STATS_PASS = 3000  # the latents that BatchNorm statistics of the sampler are measured on (step 0, always)
SECOND_PASS = 4000  # the fresh latents of a sequential step's second update (d-then-g, g-then-d)
