"""The seed recipes are the seeds: their networks have the seeds' published sizes, and the options that
make them (sigmoid output on [0, 1] images, flipped labels, clipvalue, Keras-2 decay) do what the seeds did.

Parameter counts are computed here from each seed's own layer list (quoted beside it), not from ganflow's
code. Keras' count_params() includes BatchNorm's moving mean and variance, as Keras 1 and 2 printed them.
"""

from pathlib import Path

import numpy as np
import pytest

from flows.params import RunParams
from flows.recipes import RECIPES, render_markdown
from ganmodels.config import LATER_FIELDS, GanConfig
from ganmodels.losses import d_labels, discriminator_loss, generator_loss
from ganmodels.networks import build_discriminator, build_generator
from ganmodels.streams import Rows
from ganmodels.tf import keras, tf
from ganmodels.train_step import GanModels, build_optimizer, output_of, scale_images, to_uint8

ROOT = Path(__file__).resolve().parents[1]


def dense(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def conv(k: int, c_in: int, c_out: int) -> int:
    return k * k * c_in * c_out + c_out


def bn(features: int) -> int:
    return 4 * features  # gamma, beta, moving mean, moving variance


def counts(recipe: str) -> tuple[int, int]:
    cfg = RunParams(recipe=recipe).gan_config()
    return build_generator(cfg).count_params(), build_discriminator(cfg).count_params()


def test_seed_celeb32_has_the_layers_of_main_py():
    # G: Dense(dim*dim*depth, input_dim=noise_vec) with dim 8, depth 512, noise_vec 256; BatchNormalization;
    # Conv2DTranspose(256, 5), BN, Conv2DTranspose(128, 5), BN, Conv2DTranspose(64, 5), BN, Conv2DTranspose(3, 5).
    g = dense(256, 8 * 8 * 512) + bn(8 * 8 * 512)
    g += conv(5, 512, 256) + bn(256) + conv(5, 256, 128) + bn(128) + conv(5, 128, 64) + bn(64) + conv(5, 64, 3)
    # D: Conv2D(64, 5, strides=2), Conv2D(128, 5, strides=2), Conv2D(256, 5, strides=2), Conv2D(512, 5, strides=1),
    # Flatten (4 x 4 x 512), Dense(1).
    d = conv(5, 3, 64) + conv(5, 64, 128) + conv(5, 128, 256) + conv(5, 256, 512) + dense(4 * 4 * 512, 1)
    assert counts("seed-celeb32") == (g, d) == (12_860_291, 4_314_753)
    cfg = RunParams(recipe="seed-celeb32").gan_config()
    generator = build_generator(cfg)
    kinds = [type(layer).__name__ for layer in generator.layers]
    assert kinds.count("UpSampling2D") == 2 and kinds.count("Conv2DTranspose") == 4 and kinds.count("Dropout") == 1
    assert output_of(generator) == "sigmoid"
    inits = {type(layer.kernel_initializer).__name__ for layer in generator.layers if hasattr(layer, "kernel")}
    assert inits == {"GlorotNormal"}
    assert [type(layer).__name__ for layer in build_discriminator(cfg).layers].count("Dropout") == 4


def test_seed_jhayes14_has_the_layers_of_model_py():
    # generator_model(inputdim=100, xdim=4, ydim=4): Dense(1024*4*4), BN; Convolution2D(512, 5, 5), BN;
    # (256, 5, 5), BN; (128, 5, 5), BN; (3, 5, 5). discriminator_model: Convolution2D 128, 256, 512, 1024 (5x5,
    # subsample 2), Flatten (4 x 4 x 1024), Dense(1).
    g = dense(100, 1024 * 16) + bn(1024 * 16)
    g += conv(5, 1024, 512) + bn(512) + conv(5, 512, 256) + bn(256) + conv(5, 256, 128) + bn(128) + conv(5, 128, 3)
    d = conv(5, 3, 128) + conv(5, 128, 256) + conv(5, 256, 512) + conv(5, 512, 1024) + dense(4 * 4 * 1024, 1)
    assert counts("seed-jhayes14") == (g, d)


def test_seed_celeba28_mlp_is_keras_gans_gan_py_on_28x28x3():
    # build_generator: Dense(256), BN, Dense(512), BN, Dense(1024), BN, Dense(np.prod(img_shape)) from (100,);
    # build_discriminator: Flatten, Dense(512), Dense(256), Dense(1).
    pixels = 28 * 28 * 3
    g = dense(100, 256) + bn(256) + dense(256, 512) + bn(512) + dense(512, 1024) + bn(1024) + dense(1024, pixels)
    d = dense(pixels, 512) + dense(512, 256) + dense(256, 1)
    assert counts("seed-celeba28-mlp") == (g, d)
    # The README's "about 1 million" (G) and "about 3 million" (D) name the two the other way round.
    assert round(g / 1e6) == 3 and round(d / 1e6) == 1


def test_seed_mlp_is_the_numpy_mlp():
    # G: Model(num_input=100), Layer(512, LEAKY_RELU), Layer(28 * 28, SIGMOID); D: Model(num_input=28 * 28),
    # Layer(512, RELU), Layer(1, SIGMOID).
    assert counts("seed-mlp") == (dense(100, 512) + dense(512, 784), dense(784, 512) + dense(512, 1))
    cfg = RunParams(recipe="seed-mlp").gan_config()
    d = build_discriminator(cfg)
    assert [type(layer).__name__ for layer in d.layers if type(layer).__name__ in ("ReLU", "LeakyReLU")] == ["ReLU"]
    assert output_of(build_generator(cfg)) == "sigmoid"
    # G: `wparam(init_type=wparam.NORMAL, stddev=0.02)`; D, no weight_parameter: `np.random.randn(...) * 0.1`.
    for net, stddev in ((build_generator(cfg), 0.02), (d, 0.1)):
        kernels = [layer.kernel_initializer for layer in net.layers if hasattr(layer, "kernel")]
        assert {(type(k).__name__, k.stddev) for k in kernels} == {("RandomNormal", stddev)}


def test_seed_celeba28_is_near_the_readmes_totals():
    # README only: "It contained about 26 million parameters" (G), "about 56 million parameters" (D).
    g, d = counts("seed-celeba28")
    assert abs(g / 26e6 - 1) < 0.1 and abs(d / 56e6 - 1) < 0.1


def test_seed_ganhacks_has_two_convolutional_layers_in_each_net():
    cfg = RunParams(recipe="seed-ganhacks").gan_config()
    for net in (build_generator(cfg), build_discriminator(cfg)):
        assert sum(type(layer).__name__ in ("Conv2D", "Conv2DTranspose") for layer in net.layers) == 2
    assert (cfg.labels, cfg.label_noise, cfg.latent_dist, cfg.latent_dim) == ("real0", 0.1, "uniform", 100)


def test_flipped_soft_labels_are_the_ganhacks_ranges_and_g_aims_at_zero():
    cfg = GanConfig(labels="real0", label_noise=0.1)
    real, fake = (np.asarray(t) for t in d_labels(cfg, Rows.whole(4096), tf.constant([1, 2], tf.int64)))
    assert real.min() >= 0.0 and real.max() <= 0.1 and real.std() > 0.02  # U[0.0, 0.1]
    assert fake.min() >= 0.9 and fake.max() <= 1.0 and fake.std() > 0.02  # U[0.9, 1.0]
    logits = tf.constant([[3.0], [-2.0]])
    flipped = float(generator_loss("bce", logits, "real0"))
    assert flipped == pytest.approx(float(generator_loss("bce", -logits)), rel=1e-6)
    # A D that says "real" (low) for real images and "fake" (high) for fakes has a low loss under real0.
    low, high = tf.fill((2, 1), -5.0), tf.fill((2, 1), 5.0)
    labels = d_labels(GanConfig(labels="real0"), Rows.whole(2), tf.constant([0, 0], tf.int64))
    assert float(discriminator_loss("bce", low, high, *labels)) < 0.02


def test_sigmoid_output_scales_data_to_0_1_and_back(tmp_path):
    batch = np.array([[[[0, 128, 255]]]], np.uint8)
    np.testing.assert_allclose(np.asarray(scale_images(batch, "sigmoid")), [[[[0.0, 128 / 255, 1.0]]]], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(scale_images(batch)), [[[[-1.0, 128 / 127.5 - 1, 1.0]]]], atol=1e-6)
    assert to_uint8(np.float32([0.0, 0.5, 1.0]), "sigmoid").tolist() == [0, 128, 255]
    assert to_uint8(np.float32([-1.0, 0.0, 1.0])).tolist() == [0, 128, 255]
    cfg = GanConfig(size=28, channels=1, arch="numpy-mlp", output="sigmoid", hidden_units=8, latent_dim=4)
    models = GanModels.build(cfg)
    z = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    raw = np.asarray(models.generator(z, training=False))
    assert raw.min() >= 0.0 and raw.max() <= 1.0
    np.testing.assert_allclose(models.generate(z), raw * 2 - 1, atol=1e-6)  # one range for every caller
    models.generator.save(tmp_path / "g.keras")
    loaded = keras.models.load_model(tmp_path / "g.keras", compile=False)
    assert output_of(loaded) == "sigmoid" and output_of(build_generator(GanConfig(g_filters=4))) == "tanh"
    from ganmodels.images import images_from

    np.testing.assert_array_equal(images_from(loaded, z), to_uint8(raw, "sigmoid"))


def test_rmsprop_clips_each_gradient_and_decays_as_keras_2():
    cfg = GanConfig(optimizer="rmsprop", clipvalue=1.0)
    opt = build_optimizer(cfg, 8e-4, 6e-8)
    assert isinstance(opt, keras.optimizers.RMSprop) and opt.clipvalue == 1.0
    var = tf.Variable([0.0, 0.0])
    opt.apply_gradients([(tf.constant([100.0, -0.5]), var)])
    # RMSprop's first step is lr * g / sqrt((1 - rho) * g^2): the clipped 1.0 and the untouched -0.5 move alike.
    np.testing.assert_allclose(np.asarray(var), [-8e-4 / np.sqrt(0.1), 8e-4 / np.sqrt(0.1)], rtol=1e-3)
    decaying = build_optimizer(cfg, 8e-4, 0.5)  # Keras 2's decay: lr / (1 + decay * iterations)
    decaying.apply_gradients([(tf.constant([1.0, 1.0]), tf.Variable([0.0, 0.0]))])
    assert float(decaying.learning_rate) == pytest.approx(8e-4 / 1.5, rel=1e-6)
    assert build_optimizer(GanConfig(), 2e-4).clipvalue is None


def keras2_rmsprop(grads: list[np.ndarray], lr: float, rho: float = 0.9, eps: float = 1e-7) -> np.ndarray:
    """Keras 2.3's RMSprop.get_updates: `new_a = rho * a + (1 - rho) * K.square(g)`;
    `new_p = p - lr * g / (K.sqrt(new_a) + self.epsilon)` (the 32 px celebrity seed's optimizer)."""
    p, a = np.zeros_like(grads[0]), np.zeros_like(grads[0])
    for g in grads:
        a = rho * a + (1 - rho) * g * g
        p = p - lr * g / (np.sqrt(a) + eps)
    return p


def test_small_gradients_step_as_keras_2s_rmsprop_and_adam_takes_the_epsilon():
    """Keras 3's RMSprop puts epsilon under the root (a floor of 3e-4 at 1e-7): a G gradient of 1e-5 would
    move 30x less than under Keras 2. ganflow's --epsilon means Keras 2's, for both optimizers."""
    grads = [np.array([1e-5, -3e-5, 2e-3, 0.4], np.float32) * k for k in (1.0, 0.7, 1.3)]
    var = tf.Variable(np.zeros(4, np.float32))
    opt = build_optimizer(GanConfig(optimizer="rmsprop"), 4e-4)
    for g in grads:
        opt.apply_gradients([(tf.constant(g), var)])
    # Within 3% where epsilon still counts (a gradient of 1e-5), equal above.
    np.testing.assert_allclose(np.asarray(var), keras2_rmsprop(grads, 4e-4), rtol=0.05)
    plain = keras.optimizers.RMSprop(4e-4)  # Keras 3 as it comes: the small gradients barely move
    raw = tf.Variable(np.zeros(4, np.float32))
    for g in grads:
        plain.apply_gradients([(tf.constant(g), raw)])
    assert abs(float(raw[0])) < abs(keras2_rmsprop(grads, 4e-4)[0]) / 10
    assert build_optimizer(GanConfig(epsilon=1e-8), 2e-5).epsilon == pytest.approx(1e-8)
    assert RunParams(recipe="seed-jhayes14").gan_config().epsilon == pytest.approx(1e-8)


def test_older_configs_load_and_name_the_same_run():
    old = {k: v for k, v in GanConfig().to_dict().items() if k not in LATER_FIELDS}  # a config.json from before them
    assert GanConfig.from_dict(old) == GanConfig()
    assert GanConfig().identity() == old  # so the run folder's name and the fingerprint stay the same
    # The default config's fingerprint from before the later fields: one left out of LATER_FIELDS changes it.
    assert GanConfig().fingerprint() == "16e4f08f3935fca4"
    assert "output" not in GanConfig().identity() and GanConfig(output="sigmoid").identity()["output"] == "sigmoid"


def test_the_recipes_page_is_rendered_from_the_recipes():
    page = (ROOT / "docs" / "recipes.md").read_text()
    assert page == render_markdown(), "rerender it: python -m flows.recipes > docs/recipes.md"
    for recipe in RECIPES.values():
        assert all(row.source for row in recipe.rows), recipe.name


def test_replacement_sampling_draws_round_n_over_batch_batches_like_the_keras_seeds():
    from ganmodels.data import epoch_batch_indices, steps_per_epoch

    assert steps_per_epoch(100, 16, "replacement") == 6 == round(100 / 16)  # main.py: int(round(N/batch_size))
    assert steps_per_epoch(100, 16) == 6 and steps_per_epoch(90, 16, "replacement") == 6
    assert steps_per_epoch(104, 16, "replacement") == 6 and steps_per_epoch(104, 16) == 6
    assert steps_per_epoch(120, 16, "replacement") == 8 and steps_per_epoch(120, 16) == 7
    drawn = epoch_batch_indices(10, 8, seed=3, epoch=2, sampling="replacement")
    assert drawn.shape == (1, 8) and drawn.max() < 10
    np.testing.assert_array_equal(drawn, epoch_batch_indices(10, 8, seed=3, epoch=2, sampling="replacement"))
    many = epoch_batch_indices(50, 50, seed=0, epoch=1, sampling="replacement")
    assert len(np.unique(many)) < 50  # with replacement: some images twice, some not at all
    assert RunParams(recipe="seed-celeb32").gan_config().sampling == "replacement"


def test_the_seed_options_resume_bit_exact(tmp_path):
    """G's Dropout (celeb32), sigmoid pixels, flipped soft labels, clipvalue, decay and the seeds' update order
    (D on inference-mode fakes, then G on fresh latents): a restored run goes on exactly as one trained straight
    through."""
    from ganmodels.state import TrainingState

    cfg = GanConfig(
        arch="celeb32",
        g_filters=4,
        d_filters=4,
        latent_dim=8,
        batch_size=4,
        dropout=0.5,
        output="sigmoid",
        labels="real0",
        label_noise=0.1,
        optimizer="rmsprop",
        clipvalue=1.0,
        lr_decay_g=0.01,
        lr_decay_d=0.02,
        sampling="replacement",
        update_order="d-then-g",
    )
    data = np.random.default_rng(0).integers(0, 256, (8, 32, 32, 3), dtype=np.uint8)
    straight = TrainingState.build(cfg)
    for _ in range(2):
        straight.train_batch(data[:4])
    path = straight.checkpoint.write(str(tmp_path / "ckpt"))
    for _ in range(2):
        straight.train_batch(data[4:])
    resumed = TrainingState.build(cfg)
    resumed.restore(path)
    for _ in range(2):
        resumed.train_batch(data[4:])
    nets = ("generator", "discriminator")
    for a, b in zip(
        *(sum((getattr(s.models, n).get_weights() for n in nets), []) for s in (straight, resumed)), strict=True
    ):
        np.testing.assert_array_equal(a, b)
