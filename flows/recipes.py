"""Named presets of `ganflow run` options: the seed projects' published choices, and ganflow's own.

A recipe only sets option values; any option given explicitly beats it (flows/params.py resolves
them: given value, else the recipe's, else the option's fallback). `ganflow recipes` lists them,
and docs/recipes.md says where each choice comes from.
"""

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

RecipeName = Literal["ganflow", "seed-jhayes14", "seed-celeba28", "seed-ganhacks", "seed-celeb32", "seed-mlp"]
DEFAULT_RECIPE: RecipeName = "ganflow"


@dataclass(frozen=True)
class Recipe:
    name: str
    summary: str
    source: str
    settings: dict[str, Any] = field(default_factory=dict)


RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe(
            "ganflow",
            "the default: the TensorFlow tutorial's DCGAN with an EMA generator, best on small face sets on CPU",
            "ganflow's own comparison on the built-in sample (docs/models.md)",
            {"ema": 0.999},
        ),
        Recipe(
            "seed-jhayes14",
            "64 px DCGAN, BatchNorm in G only, uniform noise, tiny Adam steps, the loss-margin balance rule",
            "github.com/jhayes14/GAN (model.py, train.py)",
            {
                "size": 64,
                "channels": 3,
                "arch": "dcgan64",
                "g_filters": 128,
                "d_filters": 128,
                "dropout": 0.2,
                "leaky_alpha": 0.2,
                "latent_dim": 100,
                "latent_dist": "uniform",
                "loss": "bce",
                "optimizer": "adam",
                "lr_g": 2e-5,
                "lr_d": 2e-5,
                "beta1": 0.0005,
                "beta2": 0.999,
                "batch_size": 50,
                "balance_margin": 0.1,
                "balance_max_steps": 5,
            },
        ),
        Recipe(
            "seed-celeba28",
            "28 px CelebA: convolutions then dense layers on image-shaped noise, at the seed's full width",
            "the CelebA 28 px seed project",
            {"size": 28, "channels": 3, "arch": "convdense", "noise_shape": "image", "width": 1.0},
        ),
        Recipe(
            "seed-ganhacks",
            "the 'GAN hacks' of the MNIST/CIFAR seed: one-sided soft labels, jittered labels, flipped labels",
            "the MNIST/CIFAR seed project, after github.com/soumith/ganhacks ('use soft and noisy labels')",
            {"size": 32, "channels": 3, "label_smoothing": 0.9, "label_noise": 0.1, "flip_labels": 0.05},
        ),
        Recipe(
            "seed-celeb32",
            "32 px faces with the Wasserstein loss the seed recommended, done as WGAN-GP, 128-d latents",
            "the celebrity 32 px seed project; WGAN-GP settings from Gulrajani et al. 2017 (Algorithm 1)",
            {
                "size": 32,
                "channels": 3,
                "latent_dim": 128,
                "loss": "wgan-gp",
                "n_critic": 5,
                "gp_weight": 10.0,
                "dropout": 0.0,
                "optimizer": "adam",
                "lr_g": 1e-4,
                "lr_d": 1e-4,
                "beta1": 0.0,
                "beta2": 0.9,
            },
        ),
        Recipe(
            "seed-mlp",
            "the two-layer MLP GAN of the MNIST seeds: 100 -> 512 -> image, image -> 512 -> 1, 28 px gray",
            "the numpy MLP GAN seed project on MNIST",
            {"size": 28, "channels": 1, "arch": "mlp", "hidden_units": 512, "latent_dim": 100, "dropout": 0.0},
        ),
    )
}

assert tuple(RECIPES) == get_args(RecipeName), "RecipeName and RECIPES must list the same recipes"
