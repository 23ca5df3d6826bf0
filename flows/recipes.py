# ruff: noqa: E501 - the tables quote seed lines whole, so a reader can search for them
"""Named presets of `ganflow run` options: the original projects' published choices, and ganflow's own.

A recipe only sets option values; any option given explicitly beats it (flows/params.py resolves
them: given value, else the recipe's, else the option's fallback). Each setting carries where in the
seed it comes from (file and the line, or the README's sentence) and, where ganflow differs, why.
`ganflow recipes` prints these tables and docs/recipes.md is rendered from them (`render_markdown`).
Rows without an option record what a seed fixed that is not an option (the update order, what an
epoch was), so a reader who knows the seed finds every point of it here.
"""

from dataclasses import dataclass
from typing import Any, Literal, get_args

RecipeName = Literal[
    "ganflow",
    "seed-jhayes14",
    "seed-celeba28",
    "seed-celeba28-mlp",
    "seed-ganhacks",
    "seed-celeb32",
    "celeb32-wgan-gp",
    "seed-mlp",
]
DEFAULT_RECIPE: RecipeName = "ganflow"


@dataclass(frozen=True)
class Row:
    """One setting of a recipe: the option (None for a fact that is no option), its value, its source, and
    why ganflow differs from the seed, if it does."""

    option: str | None
    value: Any
    source: str
    differs: str = ""


@dataclass(frozen=True)
class Recipe:
    name: str
    summary: str
    source: str
    rows: tuple[Row, ...] = ()

    @property
    def settings(self) -> dict[str, Any]:
        """The option values this recipe sets."""
        return {r.option: r.value for r in self.rows if r.option is not None}


def _flag(option: str) -> str:
    return "--" + option.replace("_", "-")


HC = "DCGAN/main.py"  # hklchung/GAN-GenerativeAdversarialNetwork
JH_M, JH_T = "model.py", "train.py"  # jhayes14/GAN
KG_DC, KG_GAN = "dcgan/dcgan.py", "gan/gan.py"  # eriklindernoren/Keras-GAN
HI = "examples/neural_network_mnist_gan_example"  # hideyukiinada/ml
HI_AF, HI_NN = "project/activationfunction.py", "project/neuralnetwork.py"  # its numpy framework
KERAS2_TRAINABLE = (
    "ganflow makes both updates in one compiled step with D's variables left out of G's update; the Keras-2 "
    "idiom (`D.trainable = False` before compiling the stacked model) never trains D under Keras 3 "
    "(DEVELOPERS.md), so the intent, D frozen during G's update, is kept, not the idiom"
)
PREDICT = "D's fakes come from G in inference mode, as `predict` made them (BatchNorm's moving statistics, no Dropout)"
KERAS_GAN_STEP = (
    "Keras-GAN's D made two updates per iteration, on 16 real then on 16 fake images "
    "(`d_loss_real = self.discriminator.train_on_batch(imgs, ...)`, `d_loss_fake = ...(gen_imgs, ...)`); ganflow "
    "makes one on 32 + 32. "
)
KERAS2_EPSILON = (
    "Keras 2's Adam default: `epsilon=None` becomes `K.epsilon()`, 1e-7 (Keras 2.1.2 and older used 1e-8; the "
    "seed pins no version)"
)


SEED_CELEB32 = Recipe(
    "seed-celeb32",
    "the 32 px celebrity DCGAN: sigmoid G on [0, 1] images, Dropout 0.5 in D, RMSprop with clipvalue, 256-d noise",
    "github.com/hklchung/GAN-GenerativeAdversarialNetwork (DCGAN/main.py)",
    (
        Row("size", 32, f"{HC}: `size = 32, 32`; `temp.thumbnail(size, Image.ANTIALIAS)`"),
        Row("channels", 3, f"{HC}: `X = [x.reshape(32, 32, 3) for x in X]`"),
        Row(
            "crop",
            "pad",
            f"{HC}: `temp.thumbnail(size, Image.ANTIALIAS)` then `np.pad(temp, ((hor//2 + 1, hor//2), ...), mode='constant', constant_values=0)`",
            "ganflow takes thumbnail's sizes (truncated, never enlarged) and the seed's margins, but resizes with "
            "OpenCV's area filter, not PIL's Lanczos, and does not re-save the thumbnail as a JPEG (the seed's "
            '`temp.save(..., "JPEG")`, quality 75) before training',
        ),
        Row(
            "output",
            "sigmoid",
            f"{HC}: `X = [1.0/255*x for x in images]`; G ends `G.add(Activation('sigmoid'))`",
        ),
        Row(
            "arch",
            "celeb32",
            f"{HC}: G `Dense(dim*dim*depth, ...)`, `BatchNormalization(momentum=0.9)`, `LeakyReLU(alpha=0.3)`, `Reshape`, `Dropout(dropout)`, 2 x (`UpSampling2D()`, `Conv2DTranspose(int(depth/2), 5, ...)`, `BatchNormalization(momentum=0.8)`, `LeakyReLU(alpha=0.3)`), `Conv2DTranspose(int(depth/8), 5, ...)`, `BatchNormalization(momentum=0.8)`, `LeakyReLU(alpha=0.3)`, `Conv2DTranspose(3, 5, ...)`; D `Conv2D(depth*1, 5, strides=2, ...)` ... `Conv2D(depth*8, 5, strides=1, ...)`, `Dense(1, ...)`, `Activation('sigmoid')`; all `kernel_initializer='glorot_normal'`",
        ),
        Row(
            "g_filters",
            64,
            f"{HC}: `depth = 64*8` (G's widest map; its last hidden layer has `int(depth/8)` = 64)",
        ),
        Row("d_filters", 64, f"{HC}: `depth = 64` (D)"),
        Row(
            "dropout",
            0.5,
            f"{HC}: `dropout = 0.5`; `D.add(Dropout(dropout))` after every D convolution, `G.add(Dropout(dropout))` after G's reshape",
        ),
        Row(
            "leaky_alpha",
            0.2,
            f"{HC}: `D.add(LeakyReLU(alpha=0.2))` (G's `LeakyReLU(alpha=0.3)` is fixed in the celeb32 architecture)",
        ),
        Row(
            "bn_momentum",
            0.8,
            f"{HC}: `G.add(BatchNormalization(momentum=0.8))` (the first, `momentum=0.9`, is fixed in the architecture)",
        ),
        Row("d_batchnorm", False, f"{HC}: no BatchNormalization in D"),
        Row("latent_dim", 256, f"{HC}: `noise_vec = 256`; `train_gan(..., noise_len=256)`"),
        Row("noise_shape", "vector", f"{HC}: `G.add(Dense(dim*dim*depth, input_dim=noise_vec, ...))`"),
        Row("latent_dist", "normal", f"{HC}: `noise = np.random.normal(0.0, 1.0, size=[batch_size, noise_len])`"),
        Row(
            "loss",
            "bce",
            f"{HC}: `D.compile(loss='binary_crossentropy', optimizer=optimizer1, ...)`",
            "the seed's D loss is the mean over its mixed 2 x 16 batch; ganflow's is the sum of the real and "
            "fake means, twice as large. RMSprop's normalisation cancels the factor, but `clipvalue=1.0` then "
            "acts as the seed's 0.5 on D's gradients (measured at the start: no element was near 0.5)",
        ),
        Row("labels", "real1", f"{HC}: `y = np.ones([2*batch_size, 1])`; `y[batch_size:, :] = 0`"),
        Row(
            "label_smoothing",
            1.0,
            f"{HC}: hard labels (the README lists 'Soft labelling' only as something to try)",
        ),
        Row("optimizer", "rmsprop", f"{HC}: `optimizer1 = RMSprop(lr=0.0008, clipvalue=1.0, decay=6e-8)`"),
        Row(
            "lr_d",
            8e-4,
            f"{HC}: `optimizer1 = RMSprop(lr=0.0008, ...)`; `D.compile(..., optimizer=optimizer1, ...)`",
        ),
        Row(
            "lr_g",
            4e-4,
            f"{HC}: `optimizer2 = RMSprop(lr=0.0004, ...)`; `GAN.compile(..., optimizer=optimizer2, ...)`",
        ),
        Row("clipvalue", 1.0, f"{HC}: `RMSprop(..., clipvalue=1.0, ...)` (both)"),
        Row(
            "epsilon",
            1e-7,
            "Keras 2.3's RMSprop: `rho=0.9`, `epsilon=None` (`K.epsilon()`, 1e-7), `new_p = p - lr * g / (K.sqrt(new_a) + self.epsilon)`",
            "Keras 3's RMSprop puts epsilon under the root, a floor of 3e-4 that would shrink most of G's "
            "steps several times; ganflow passes it 1e-14, so its steps follow Keras 2's",
        ),
        Row("lr_decay_d", 6e-8, f"{HC}: `optimizer1 = RMSprop(..., decay=6e-8)`"),
        Row("lr_decay_g", 3e-8, f"{HC}: `optimizer2 = RMSprop(..., decay=3e-8)`"),
        Row("batch_size", 16, f"{HC}: `train_gan(X=X, model=GAN, batch_size=16, ...)`"),
        Row(
            "epochs",
            2000,
            f"{HC}: `train_gan(..., epoch=2000, ...)` (the README's table shows 5000 for this run)",
        ),
        Row("d_pretrain_steps", 0, f"{HC}: `pretrain=False`; README: 'No pre-training of discriminator'"),
        Row("ema", 0.0, "the seed kept no moving average"),
        Row(
            "sampling",
            "replacement",
            f"{HC}: `batch_per_epoch = int(round(X.shape[0]/batch_size))`; `images_real = X[np.random.randint(0,X.shape[0], size=batch_size), :, :, :]`",
        ),
        Row(
            None,
            "trains on every image",
            f"{HC}: `batch_per_epoch = int(round(X.shape[0]/batch_size))` batches drawn from all of `X`",
            "ganflow holds out 10% of a set of 1,024 images or more (at least 256) for its quality measures "
            "and never trains on them (docs/quality.md); --holdout 0 trains on every image, as the seed",
        ),
        Row(
            "update_order",
            "d-then-g",
            f"{HC}: `images_fake = G.predict(noise)`; `d_loss = D.train_on_batch(x, y)`; `D.trainable = False`; `gan_loss = GAN.train_on_batch(noise, y)`; {PREDICT}",
            "the seed compiled `GAN` while `D.trainable` was still True, so under Keras 2.3 its G step also "
            "moved D towards calling fakes real; ganflow keeps the stated intent ('Freeze weights in "
            "discriminator'). D's mixed batch is shuffled in the seed (`x,y = shuffle(x,y)`), which changes "
            "nothing for a D without BatchNorm",
        ),
        Row(
            "reuse_noise",
            False,
            f"{HC}: `noise = np.random.normal(0.0, 1.0, size=[batch_size, noise_len])` again under 'Train GAN'",
        ),
    ),
)

# What celeb32-wgan-gp keeps of seed-celeb32: the network and the data, not the loss or the optimizer.
CELEB32_NETWORK_AND_DATA = (
    "size",
    "channels",
    "crop",
    "output",
    "arch",
    "g_filters",
    "d_filters",
    "bn_momentum",
    "latent_dim",
    "batch_size",
    "sampling",
)


RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe(
            "ganflow",
            "the default: the TensorFlow tutorial's DCGAN with an EMA generator, best on small face sets on CPU",
            "ganflow's own comparison on the built-in sample (docs/models.md); against the faithful seed-celeb32: docs/quality.md",
            (
                Row(
                    "ema",
                    0.999,
                    "ganflow: an EMA generator scored ~40% better pixel SWD on the sample (docs/models.md); on colour faces (flat backgrounds, one seed), without it held-out SWD was 1.3x worse and the colour figure 3.8x (docs/quality.md)",
                ),
                Row(
                    "lr_g",
                    4e-4,
                    "ganflow: on colour faces for the same wall time, 4e-4 for both networks beat the DCGAN paper's 2e-4 on held-out SWD (70.0 vs 82.7) and colour figure (2.6 vs 4.0) (docs/quality.md, 'How the default was chosen')",
                ),
                Row("lr_d", 4e-4, "ganflow: as --lr-g; the same rate for both networks (docs/quality.md)"),
            ),
        ),
        Recipe(
            "seed-jhayes14",
            "64 px DCGAN, BatchNorm in G only, uniform noise, tiny Adam steps, the loss-margin balance rule",
            "github.com/jhayes14/GAN (model.py, train.py)",
            (
                Row("size", 64, f"{JH_T}: `img = np.float32(cv2.resize(img, (64, 64))) / 127.5 - 1`"),
                Row(
                    "channels",
                    3,
                    f"{JH_T}: `img = cv2.imread(path, 1)` (colour)",
                    "cv2 reads BGR and the seed trained on it; ganflow trains on RGB (a network trained from scratch "
                    "has no use for the order, and ganflow's images and GIF are RGB throughout)",
                ),
                Row(
                    "crop",
                    "none",
                    f"{JH_T}: `cv2.resize(img, (64, 64))` stretches the whole image",
                    "cv2.resize's default is bilinear; ganflow shrinks with area averaging (cubic where it enlarges), "
                    "which does not alias",
                ),
                Row("output", "tanh", f"{JH_M}: `model.add(Activation('tanh'))`; data `/ 127.5 - 1`"),
                Row(
                    "arch",
                    "dcgan64",
                    f"{JH_M}: `generator_model` / `discriminator_model` (Dense, 4 x UpSampling2D + Convolution2D 5x5; 4 x Convolution2D 5x5 subsample (2, 2))",
                ),
                Row(
                    "g_filters",
                    128,
                    f"{JH_M}: `Convolution2D(512, 5, 5)`, 256, 128 after `Dense(output_dim=1024*xdim*ydim)`",
                ),
                Row(
                    "d_filters", 128, f"{JH_M}: `Convolution2D(128, 5, 5, subsample=(2, 2), ...)`, then 256, 512, 1024"
                ),
                Row("d_batchnorm", False, "README: 'Batch Normalization is used for G but not for D'"),
                Row(
                    "bn_momentum",
                    0.99,
                    f"{JH_M}: `BatchNormalization()` (later Keras 1 defaults: momentum 0.99, epsilon 1e-3)",
                    "the seed pins no Keras version, and Keras 1.0's defaults were momentum 0.9 and epsilon 1e-6; "
                    "ganflow takes the later ones. Keras 1's default `axis=-1` on channels-first "
                    "(1024, 4, 4) maps normalised over an image axis, not the channels; ganflow normalises channels, "
                    "as the layer was meant to",
                ),
                Row("dropout", 0.2, f"{JH_M}: `model.add(Dropout(0.2))` after each D convolution"),
                Row("leaky_alpha", 0.2, f"{JH_M}: `model.add(LeakyReLU(0.2))` in D (G uses `Activation('relu')`)"),
                Row("latent_dim", 100, f"{JH_T}: `zmb = np.random.uniform(-1, 1, 100)`"),
                Row("latent_dist", "uniform", f"{JH_T}: `zmb = np.random.uniform(-1, 1, 100)`"),
                Row("loss", "bce", f"{JH_T}: `discriminator.compile(loss='binary_crossentropy', ...)`"),
                Row("labels", "real1", f"{JH_T}: `yd = [1] * len(image_batch) + [0] * len(image_batch)`"),
                Row(
                    "optimizer",
                    "adam",
                    f"{JH_T}: `adam_dis=Adam(lr=0.00002, beta_1=0.0005, beta_2=0.999, epsilon=1e-08)`",
                ),
                Row("lr_g", 2e-5, f"{JH_T}: `adam_gen=Adam(lr=0.00002, ...)`"),
                Row("lr_d", 2e-5, f"{JH_T}: `adam_dis=Adam(lr=0.00002, ...)`"),
                Row("beta1", 0.0005, f"{JH_T}: `beta_1=0.0005`"),
                Row("beta2", 0.999, f"{JH_T}: `beta_2=0.999`"),
                Row("epsilon", 1e-8, f"{JH_T}: `epsilon=1e-08`"),
                Row("batch_size", 50, f'{JH_T}: `parser.add_argument("--batch_size", type = int, default=50)`'),
                Row(
                    None,
                    "epochs: ganflow's 300",
                    f'{JH_T}: `parser.add_argument("--epochs", type = int, default = 2)`; README: "After training for 45-60 minutes"',
                    "the argparse default (2 passes over ~400 images) is not the run the README shows, so the recipe leaves --epochs alone",
                ),
                Row(
                    "balance_margin",
                    0.1,
                    f"{JH_T}: `inter_model_margin = 0.10`; `while abs(d_loss - g_loss) > inter_model_margin:`; in D's loop only `d_loss = discriminator.train_on_batch(Xd, yd)` is measured again (`#g_loss = ...` is commented out), and the other way round",
                    "the seed's extra D updates reuse `Xd`, fakes made before G's update; ganflow's make the batch's "
                    "fakes again from the same noise, with G as it is then (in inference mode, as `predict`)",
                ),
                Row(
                    "balance_max_steps",
                    5,
                    f"{JH_T}: the `while` loop has no bound",
                    "ganflow caps the extra updates per batch, so one batch cannot stall a run",
                ),
                Row("ema", 0.0, "the seed kept no moving average"),
                Row(
                    None,
                    "Glorot uniform kernels, zero biases",
                    f"{JH_M}: no `init=` anywhere: Keras 1's default `init='glorot_uniform'`",
                    "early Keras 1 left the 5x5 window out of a convolution's fan-out, so D's first kernels started "
                    "about 4x larger; ganflow counts it, as later Keras releases did",
                ),
                Row(
                    "update_order",
                    "d-then-g",
                    f"{JH_T}: `generated_images = generator.predict(Noise_batch)`; `d_loss = discriminator.train_on_batch(Xd, yd)`; then `g_loss = discriminator_on_generator.train_on_batch(Xg, yg)`; {PREDICT}",
                    "the seed set `discriminator.trainable = False` for the stacked model, then True again before "
                    "compiling D, so Keras 1 releases that collect trainable weights at the first update also moved D "
                    "in G's update; ganflow keeps the intent, D frozen in G's update",
                ),
                Row("reuse_noise", True, f"{JH_T}: `Xg = Noise_batch`, the noise D's fakes were made from"),
                Row(
                    None,
                    "one pass over the batches",
                    f"{JH_T}: `BATCHES = [ b for b in chunks(IMAGES, batch_size) ]`, shuffled once at load",
                    "ganflow reshuffles every epoch and drops the last partial batch (the compiled step keeps one shape)",
                ),
            ),
        ),
        Recipe(
            "seed-celeba28",
            "28 px CelebA: convolutions then dense layers on image-shaped noise, at the seed's full width",
            "the CelebA 28 px original project (README), built on github.com/eriklindernoren/Keras-GAN (dcgan/dcgan.py)",
            (
                Row(
                    "size",
                    28,
                    "README: 'to generate and discriminate with 28x28 pixel images cropped close to the faces'",
                ),
                Row("channels", 3, "README: 'train on RGB images from the Celeba data set'"),
                Row(
                    "crop",
                    "celeba",
                    "README: 'I used his crop and resize pre-processing' (a crop close to the face)",
                    "the credited crop code is not public: ganflow's CelebA face box (rows 55:163, cols 35:143 of "
                    "218x178) is its own choice of 'close to the faces'",
                ),
                Row(
                    "output",
                    "tanh",
                    f'Keras-GAN {KG_DC}: `model.add(Activation("tanh"))`; data `(X_train - 127.5) / 127.5`',
                ),
                Row(
                    "arch",
                    "convdense",
                    "README: 'a model that looks somewhat simmilar to an image classifier, but ends with a reshpaing of a single vector into a 28x28 RGB image matrix'",
                    "the seed's code is not public: ganflow's convdense follows the README's description",
                ),
                Row(
                    "width",
                    1.0,
                    "README: 'It contained about 26 million parameters' (G); 'about 56 million parameters' (D)",
                    "convdense at width 1 has 28.3M (G) and 51.6M (D): the README gives only totals. Its layers are "
                    "ganflow's reading of the README (5x5 kernels, LeakyReLU in G, no BatchNorm in D, no bias before "
                    "BatchNorm); Keras-GAN's dcgan.py used 3x3 kernels and ReLU in G",
                ),
                Row(
                    "noise_shape",
                    "image",
                    "README: 'accept random noise in the same size and shape as the image it is generating, rather than a random vector of length 100'",
                ),
                Row(
                    "latent_dist",
                    "normal",
                    f"Keras-GAN {KG_DC}: `noise = np.random.normal(0, 1, (half_batch, 100))`",
                    "the README says only 'random noise' of the image's shape: normal, as the code it built on",
                ),
                Row(
                    "bn_momentum",
                    0.8,
                    f"Keras-GAN {KG_DC}: `model.add(BatchNormalization(momentum=0.8))` (the README gives none)",
                ),
                Row(
                    "dropout",
                    0.25,
                    f"Keras-GAN {KG_DC}: `model.add(Dropout(0.25))` after each D layer (the README gives none)",
                ),
                Row("loss", "bce", f"Keras-GAN {KG_DC}: `self.discriminator.compile(loss='binary_crossentropy', ...)`"),
                Row(
                    "labels",
                    "real1",
                    f"Keras-GAN {KG_DC}: `train_on_batch(imgs, np.ones((half_batch, 1)))`, fakes `np.zeros`",
                ),
                Row("optimizer", "adam", f"Keras-GAN {KG_DC}: `optimizer = Adam(0.0002, 0.5)`"),
                Row("lr_g", 2e-4, f"Keras-GAN {KG_DC}: `optimizer = Adam(0.0002, 0.5)` (one optimizer for both)"),
                Row("lr_d", 2e-4, f"Keras-GAN {KG_DC}: `optimizer = Adam(0.0002, 0.5)`"),
                Row("beta1", 0.5, f"Keras-GAN {KG_DC}: `Adam(0.0002, 0.5)`"),
                Row(
                    "batch_size",
                    32,
                    f"Keras-GAN {KG_DC}: `dcgan.train(epochs=4000, batch_size=32, save_interval=50)`",
                    KERAS_GAN_STEP.strip(),
                ),
                Row("beta2", 0.999, f"Keras-GAN {KG_DC}: `Adam(0.0002, 0.5)`, Keras 2's default `beta_2=0.999`"),
                Row("epsilon", 1e-7, f"Keras-GAN {KG_DC}: `Adam(0.0002, 0.5)`", KERAS2_EPSILON),
                Row("ema", 0.0, "the seed kept no moving average"),
                Row(
                    "sampling",
                    "replacement",
                    "Keras-GAN: `idx = np.random.randint(0, X_train.shape[0], half_batch)`; `imgs = X_train[idx]`",
                ),
                Row(
                    None,
                    "2,900 'epochs' = 2,900 batches",
                    f"README: 'I ran for a total of 2,900 times'; Keras-GAN {KG_DC}: each `for epoch in range(epochs)` trains one random batch",
                    "ganflow's --epochs counts passes over the data, and the recipe leaves it at ganflow's 300: 2,900 "
                    "batches of 32 are 92,800 images, 2,900 x 32 / N epochs, under one epoch of CelebA's 202,599 "
                    "(6,331 batches); --max-minutes stops a run sooner",
                ),
                Row(
                    "update_order",
                    "d-then-g",
                    f"Keras-GAN {KG_DC}: `gen_imgs = self.generator.predict(noise)`, D's `train_on_batch`, then `g_loss = self.combined.train_on_batch(noise, np.ones((batch_size, 1)))` with `self.discriminator.trainable = False` before `self.combined.compile(...)`; {PREDICT}",
                    KERAS2_TRAINABLE,
                ),
                Row(
                    "reuse_noise",
                    False,
                    f"Keras-GAN {KG_DC}: `noise = np.random.normal(0, 1, (batch_size, 100))` again before G's update",
                ),
            ),
        ),
        Recipe(
            "seed-celeba28-mlp",
            "the CelebA 28 px seed's non-convolutional baseline: Keras-GAN's MLP GAN on 28x28x3 from a 100-vector",
            "github.com/eriklindernoren/Keras-GAN (gan/gan.py), the baseline of the CelebA 28 px seed's README",
            (
                Row(
                    "size",
                    28,
                    "README: 'a GAN desiged to produce these 28x28 celeb images from a non-convoutional network'",
                ),
                Row("channels", 3, "README: 'these 28x28 celeb images' (RGB)"),
                Row("crop", "celeba", "README: 'I used his crop and resize pre-processing'"),
                Row("output", "tanh", f"{KG_GAN}: `model.add(Dense(np.prod(self.img_shape), activation='tanh'))`"),
                Row(
                    "arch",
                    "gan-mlp",
                    f"{KG_GAN}: G `Dense(256)`, `Dense(512)`, `Dense(1024)` each + `LeakyReLU(alpha=0.2)` + `BatchNormalization(momentum=0.8)`; D `Dense(512)`, `Dense(256)` + `LeakyReLU(alpha=0.2)`, `Dense(1, activation='sigmoid')`",
                    "the README's 'about 1 million' (G) and 'about 3 million' (D) are swapped: this layer list at 28x28x3 is 3.10M (G) and 1.34M (D)",
                ),
                Row("width", 1.0, f"{KG_GAN}: the layer widths as listed"),
                Row("leaky_alpha", 0.2, f"{KG_GAN}: `model.add(LeakyReLU(alpha=0.2))`"),
                Row("bn_momentum", 0.8, f"{KG_GAN}: `model.add(BatchNormalization(momentum=0.8))`"),
                Row("dropout", 0.0, f"{KG_GAN}: no Dropout layer"),
                Row(
                    "latent_dim",
                    100,
                    f"{KG_GAN}: `noise_shape = (100,)`; README: 'starts with a vector of 100 random number'",
                ),
                Row("noise_shape", "vector", f"{KG_GAN}: `z = Input(shape=(100,))`"),
                Row("latent_dist", "normal", f"{KG_GAN}: `noise = np.random.normal(0, 1, (batch_size, 100))`"),
                Row(
                    "loss", "bce", f"{KG_GAN}: `self.combined.compile(loss='binary_crossentropy', optimizer=optimizer)`"
                ),
                Row("labels", "real1", f"{KG_GAN}: `valid_y = np.array([1] * batch_size)`"),
                Row("optimizer", "adam", f"{KG_GAN}: `optimizer = Adam(0.0002, 0.5)`"),
                Row("lr_g", 2e-4, f"{KG_GAN}: `optimizer = Adam(0.0002, 0.5)`"),
                Row("lr_d", 2e-4, f"{KG_GAN}: `optimizer = Adam(0.0002, 0.5)`"),
                Row("beta1", 0.5, f"{KG_GAN}: `Adam(0.0002, 0.5)`"),
                Row(
                    "batch_size",
                    32,
                    f"{KG_GAN}: `gan.train(epochs=30000, batch_size=32, save_interval=200)`",
                    KERAS_GAN_STEP.strip(),
                ),
                Row("beta2", 0.999, f"{KG_GAN}: `Adam(0.0002, 0.5)`, Keras 2's default `beta_2=0.999`"),
                Row("epsilon", 1e-7, f"{KG_GAN}: `Adam(0.0002, 0.5)`", KERAS2_EPSILON),
                Row("ema", 0.0, "the seed kept no moving average"),
                Row(
                    "sampling",
                    "replacement",
                    "Keras-GAN: `idx = np.random.randint(0, X_train.shape[0], half_batch)`; `imgs = X_train[idx]`",
                ),
                Row(
                    None,
                    "one 'epoch' = one batch",
                    f"{KG_GAN}: `for epoch in range(epochs):` trains one random batch; README: 'non-convoutional results from epoch 3000'",
                    "ganflow's --epochs counts passes over the data, and the recipe leaves it at ganflow's 300: the "
                    "README's 3,000 batches of 32 are under one epoch of CelebA's 202,599 (6,331 batches); "
                    "--max-minutes stops a run sooner",
                ),
                Row(
                    "update_order",
                    "d-then-g",
                    f"{KG_GAN}: `gen_imgs = self.generator.predict(noise)`, D's `train_on_batch`, then `g_loss = self.combined.train_on_batch(noise, valid_y)` with `self.discriminator.trainable = False` before `self.combined.compile(...)`; {PREDICT}",
                    KERAS2_TRAINABLE,
                ),
                Row(
                    "reuse_noise",
                    False,
                    f"{KG_GAN}: `noise = np.random.normal(0, 1, (batch_size, 100))` again before G's update",
                ),
            ),
        ),
        Recipe(
            "seed-ganhacks",
            "the 'GAN hacks' seed: flipped, soft labels (real U[0, 0.1], fake U[0.9, 1]), uniform noise, two conv layers",
            "the MNIST/Fashion-MNIST/CIFAR-10 original project (README only), after github.com/soumith/ganhacks",
            (
                Row(
                    "size",
                    28,
                    "README: 'a DCGAN (Deep Convolutional GAN) for the MNIST dataset' (28 px; use --source mnist)",
                ),
                Row("channels", 1, "README: MNIST and Fashion-MNIST are gray (CIFAR-10: --size 32 --channels 3)"),
                Row(
                    "arch",
                    "dcgan",
                    "README: 'Simplifying both models in the DCGAN to have two convolutional layers'",
                    "the README gives no widths: ganflow's dcgan at 28 px has exactly two (transposed) convolutions in each net, with ganflow's widths",
                ),
                Row(
                    "leaky_alpha",
                    0.2,
                    "README: 'Using the Leaky ReLU activation function instead of the regular ReLU'",
                    "the README gives no slope: 0.2, the DCGAN paper's",
                ),
                Row("latent_dim", 100, "README: 'values were from [-1,1], size of 100 samples'"),
                Row("latent_dist", "uniform", "README: 'Creating my noise input ... via a uniform distribution'"),
                Row(
                    "loss", "bce", "README: 'outputs a probability distribution of whether each image is real or fake'"
                ),
                Row(
                    "labels",
                    "real0",
                    'README: \'Flipping the labels on the "real" and "fake" data fed to the discriminator\'',
                ),
                Row(
                    "label_noise",
                    0.1,
                    "README: 'giving the real labels values from a uniform distribution of [0.0-0.1] and fake labels values from a uniform distribution of [0.9-1.0]'",
                ),
                Row("label_smoothing", 1.0, "README: the soft labels reach 0.0 and 1.0 (no one-sided smoothing)"),
                Row("flip_labels", 0.0, "README: the flip is of the convention, not of random labels"),
                Row(
                    "optimizer",
                    "adam",
                    "README: 'Using the Adam optimizer for updating network weights instead of standard stochastic gradient descent'",
                    "the README gives no rates: ganflow's 2e-4 and beta1 0.5 (the README tuned 'the Adam optimizer's momentum parameter')",
                ),
                Row("ema", 0.0, "the seed kept no moving average"),
                Row(
                    "update_order",
                    "joint",
                    "README: 'The resulting probability distribution is then used to update the weights of both the generator and discriminator networks'",
                    "the README does not say in which order: ganflow's joint step",
                ),
            ),
        ),
        SEED_CELEB32,
        Recipe(
            "celeb32-wgan-gp",
            "ganflow's variant: the 32 px seed's network and data with the Wasserstein loss it suggested trying, done as WGAN-GP",
            "the 32 px seed's README ('Change optimisation metric from binary_crossentropy to Wasserstein loss function'), on seed-celeb32's network and data; WGAN-GP from Gulrajani et al. 2017 (Algorithm 1)",
            tuple(
                Row(row.option, row.value, "as seed-celeb32: " + row.source)
                for row in SEED_CELEB32.rows
                if row.option in CELEB32_NETWORK_AND_DATA
            )
            + (
                Row(
                    "d_batchnorm",
                    False,
                    "as seed-celeb32, and as WGAN-GP needs: a per-sample penalty rules out BatchNorm in the critic",
                ),
                Row(
                    "loss",
                    "wgan-gp",
                    "the 32 px seed's README: 'Change optimisation metric from binary_crossentropy to Wasserstein loss function'",
                    "a suggestion the seed never trained: ganflow's own variant, not the seed",
                ),
                Row("n_critic", 5, "Gulrajani et al. 2017, Algorithm 1: n_critic = 5"),
                Row("gp_weight", 10.0, "Gulrajani et al. 2017, Algorithm 1: lambda = 10"),
                Row(
                    "dropout",
                    0.0,
                    "Gulrajani et al. 2017: their critics have no Dropout",
                    "the seed's Dropout 0.5 is left out of both nets: it makes the critic a different random function for the real, fake and interpolated images the loss and penalty compare",
                ),
                Row("optimizer", "adam", "Gulrajani et al. 2017, Algorithm 1: Adam"),
                Row("lr_g", 1e-4, "Gulrajani et al. 2017, Algorithm 1: alpha = 0.0001"),
                Row("lr_d", 1e-4, "Gulrajani et al. 2017, Algorithm 1: alpha = 0.0001"),
                Row("beta1", 0.0, "Gulrajani et al. 2017, Algorithm 1: beta1 = 0"),
                Row("beta2", 0.9, "Gulrajani et al. 2017, Algorithm 1: beta2 = 0.9"),
                Row("ema", 0.0, "as seed-celeb32: no moving average"),
            ),
        ),
        Recipe(
            "seed-mlp",
            "the numpy MLP GAN on MNIST: G 100 -> 512 LeakyReLU -> 784 sigmoid, D 784 -> 512 ReLU -> 1, images in [0, 1]",
            "github.com/hideyukiinada/ml (examples/neural_network_mnist_gan_example)",
            (
                Row("size", 28, f"{HI}: `discriminator = Model(num_input=28 * 28)` (MNIST; use --source mnist)"),
                Row("channels", 1, f"{HI}: `x_real = x.reshape((x.shape[0], 28 * 28))` (gray)"),
                Row(
                    "output",
                    "sigmoid",
                    f"{HI}: `x = x / 255.0`; `generator_discriminator.add(Layer(28 * 28, activation=af.SIGMOID))`",
                ),
                Row(
                    "arch",
                    "numpy-mlp",
                    f"{HI}: G `Layer(512, activation=af.LEAKY_RELU)`, `Layer(28 * 28, activation=af.SIGMOID)`; D `Layer(512, activation=af.RELU)`, `Layer(1, activation=af.SIGMOID)`",
                ),
                Row("hidden_units", 512, f"{HI}: `Layer(512, ...)` in both"),
                Row(
                    "leaky_alpha",
                    0.2,
                    f"{HI_AF}: `def leaky_relu(z, alpha=0.2):`, called as `af.leaky_relu(z)` ({HI_NN})",
                ),
                Row("dropout", 0.0, f"{HI}: no dropout layer"),
                Row("latent_dim", 100, f"{HI}: `generator_discriminator = Model(num_input=100)`"),
                Row(
                    "latent_dist",
                    "normal",
                    f"{HI}: `noise = np.random.normal(size=(x_real.shape[0], 100))`",
                    "the seed drew one noise vector per training image once and reused it every epoch; ganflow draws fresh noise each step",
                ),
                Row("loss", "bce", f"{HI}: `cost_function=cf.CROSS_ENTROPY`"),
                Row(
                    "labels",
                    "real1",
                    f"{HI}: `np.ones((batch_size, 1))  # true for actual MNIST images`, `np.zeros(...)  # false for generated images`",
                ),
                Row(
                    "optimizer",
                    "adam",
                    f"{HI}: `optimizer=opt.ADAM, optimizer_settings=AdamOptimizer(beta1=0.5, beta2=0.999, epsilon=1e-8)`",
                ),
                Row(
                    "lr_g",
                    2e-4,
                    f"{HI}: `learning_rate=0.0002` (generator_discriminator)",
                    f"the framework's `fit` restarts Adam's bias correction at every call ({HI_NN}: `self.optimizer_settings.beta1_to_t = self.optimizer_settings.beta1`) but keeps its moments, and the example calls `fit` once per batch, so once the moments warm up (within the first epoch) each step is about 6% of 2e-4; ganflow runs Adam as written, at 2e-4, and does not copy the framework's slip",
                ),
                Row("lr_d", 2e-4, f"{HI}: `learning_rate=0.0002` (discriminator)", "as --lr-g"),
                Row("beta1", 0.5, f"{HI}: `AdamOptimizer(beta1=0.5, ...)`"),
                Row("beta2", 0.999, f"{HI}: `AdamOptimizer(..., beta2=0.999, ...)`"),
                Row("epsilon", 1e-8, f"{HI}: `AdamOptimizer(..., epsilon=1e-8)`"),
                Row(
                    "batch_size",
                    64,
                    f"{HI}: `batch_size = 64`",
                    "each fit call split its 64 (G) or 128 (D) samples, unshuffled, into the framework's minibatches "
                    "of 32 (`batch_size=32`): two G updates, then two D updates on real images only and two on fakes "
                    "only; ganflow makes one update per network on the 64 (D: 64 real + 64 fake)",
                ),
                Row("epochs", 50, f"{HI}: `epochs = 50`"),
                Row("ema", 0.0, "the seed kept no moving average"),
                Row(
                    None,
                    "G initialised N(0, 0.02), D N(0, 0.1), biases 0",
                    f"{HI}: `weight_parameter=wparam(init_type=wparam.NORMAL, stddev=0.02)` for G; D has none, so {HI_NN}'s default: `w = np.random.randn(num_units_prev_layer, num_units_this_layer) * 0.1`; `b = np.zeros((1, num_units_this_layer))`",
                ),
                Row(
                    "update_order",
                    "g-then-d",
                    f"{HI}: `nn_generator_discriminator.fit(...)` then `generated_images = nn_generator_discriminator.predict_intermediate(noise[k:next_k], 2)` and `nn_discriminator.fit(x, y, ...)`; README: 'these two layers are locked'",
                ),
                Row(
                    "reuse_noise",
                    True,
                    f"{HI}: D's fakes come from `noise[k:next_k]`, the rows G had just trained on",
                ),
                Row(
                    None,
                    "int(N / batch) steps in data order",
                    f"{HI}: `loop_count = int(x_real.shape[0] / batch_size)`; `x_real[k:next_k]`",
                    "ganflow reshuffles every epoch (same number of steps)",
                ),
            ),
        ),
    )
}

assert tuple(RECIPES) == get_args(RecipeName), "RecipeName and RECIPES must list the same recipes"


# What no recipe sets, said once for all of them (docs/recipes.md and `ganflow recipes`).
EVERY_RECIPE = (
    "For every recipe: `--precision auto` trains in mixed bfloat16 where the CPU or GPU has it, and the original "
    "projects trained in float32, so give `--precision fp32` to match them. Sets of 1,024 images or more hold "
    "10% out for the quality measures, never trained on; `--holdout 0` trains on every image, as the originals "
    "did. Samples, the GIF and generator.keras use G's BatchNorm statistics recomputed for the weights they are drawn "
    "with (docs/first-run.md), where the originals drew with the moving averages; training itself is the same."
)


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _given(option: str, value: Any) -> str:
    """The option as typed on the command line: booleans are flags (--x / --no-x)."""
    if isinstance(value, bool):
        return _flag(option) if value else "--no-" + option.replace("_", "-")
    return f"{_flag(option)} {value}"


def render_text(recipe: Recipe) -> list[str]:
    """The recipe as `ganflow recipes` prints it: the options it sets, then each setting's source."""
    lines = [f"    source: {recipe.source}"]
    lines.append("    sets: " + (" ".join(_given(k, v) for k, v in recipe.settings.items()) or "(nothing)"))
    for row in recipe.rows:
        name = _flag(row.option) if row.option else "(not an option)"
        lines.append(f"      {name} {row.value}: {row.source}")
        if row.differs:
            lines.append(f"          ganflow differs: {row.differs}")
    return lines


def render_markdown() -> str:
    """docs/recipes.md: one table per recipe (setting, value, where in the seed, why ganflow differs)."""
    out = [
        "# Recipes: the original projects' settings, point by point",
        "",
        "`ganflow run --recipe NAME` sets the options below; any option given on the command line beats the "
        "recipe's value. Each row says where in the original project the value comes from (its file and the line, "
        "or its README's sentence) and, where ganflow differs, why. Rows marked *(not an option)* record what an "
        "original project fixed that no option changes. `ganflow recipes` prints the same tables; this page is rendered from "
        "`flows/recipes.py` (`python -m flows.recipes > docs/recipes.md`), and a test keeps the two equal. The "
        "default recipe against the faithful `seed-celeb32`: [quality.md](quality.md).",
        "",
        EVERY_RECIPE.replace("(docs/first-run.md)", "([first-run.md](first-run.md))"),
        "",
    ]
    for recipe in RECIPES.values():
        default = " (default)" if recipe.name == DEFAULT_RECIPE else ""
        out += [f"## `{recipe.name}`{default}", "", f"{recipe.summary}.", "", f"Source: {recipe.source}.", ""]
        out += ["| setting | value | where in the seed | where ganflow differs, and why |", "| --- | --- | --- | --- |"]
        for row in recipe.rows:
            name = f"`{_flag(row.option)}`" if row.option else "*(not an option)*"
            out.append(f"| {name} | {_cell(row.value)} | {_cell(row.source)} | {_cell(row.differs)} |")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(render_markdown(), end="")
