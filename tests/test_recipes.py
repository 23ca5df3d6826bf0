"""Recipes: named presets of options that explicit options beat, listed by `ganflow recipes`, each runnable."""

import json

import click
import imageio
import pytest
from click.testing import CliRunner

from flows.cli import RUN_DEFAULTS, cli
from flows.click_options import build_params, model_options
from flows.flow_parameters import of_run
from flows.ganflow import ganflow
from flows.params import RunParams
from flows.recipes import DEFAULT_RECIPE, RECIPES


def test_a_recipe_sets_options_and_explicit_options_beat_it():
    jh = RunParams(recipe="seed-jhayes14")
    assert (jh.arch, jh.size, jh.latent_dist, jh.balance_margin, jh.lr_g) == ("dcgan64", 64, "uniform", 0.1, 2e-5)
    mine = RunParams(recipe="seed-jhayes14", size=32, lr_g=1e-4, balance_max_steps=0)
    assert (mine.arch, mine.size, mine.lr_g, mine.lr_d) == ("dcgan64", 32, 1e-4, 2e-5)
    assert mine.gan_config().balance_margin is None  # 0 extra steps turns the rule off


def test_the_default_is_the_ganflow_recipe_and_derived_defaults_follow_the_choices():
    assert RunParams().model_dump() == RunParams(recipe=DEFAULT_RECIPE).model_dump()
    assert RunParams(arch="convdense").noise_shape == "image"
    assert RunParams().noise_shape == "vector" and RunParams().n_critic == 1
    assert RunParams(loss="wgan-gp").n_critic == 5 and RunParams(loss="wgan-gp", n_critic=2).n_critic == 2
    assert RunParams(ema=0).gan_config().ema is None and RunParams(ema=0.99).gan_config().ema == 0.99
    assert RunParams(diffaugment="Translation, cutout").gan_config().diffaugment == ("translation", "cutout")


def test_every_setting_gets_its_own_run_folder():
    names = {RunParams(**{k: v}).run_dir.name for k, v in [("lr_d", 1e-4), ("ema", 0.9), ("loss", "hinge")]}
    names.add(RunParams().run_dir.name)
    assert len(names) == 4
    assert RunParams(epochs=5).run_dir == RunParams(epochs=6).run_dir  # how long is not what


def test_options_that_do_not_fit_are_refused_naming_the_recipe():
    with pytest.raises(ValueError, match=r"--loss hinge.*--recipe seed-ganhacks sets"):
        RunParams(recipe="seed-ganhacks", loss="hinge")
    with pytest.raises(ValueError, match="recipe"):
        RunParams(recipe="seed-unknown")


def test_cli_passes_only_the_options_given():
    @click.command()
    @model_options(RunParams, RUN_DEFAULTS)
    def show(**options):
        click.echo(build_params(RunParams, options).model_dump_json())

    out = CliRunner().invoke(show, ["--recipe", "seed-mlp", "--size", "32", "--no-d-batchnorm"])
    assert out.exit_code == 0, out.output
    params = json.loads(out.output)
    assert (params["arch"], params["size"], params["channels"], params["d_batchnorm"]) == ("numpy-mlp", 32, 1, False)
    assert RUN_DEFAULTS["batch_size"] == 16 and RUN_DEFAULTS["epochs"] == 300


def test_recipes_command_lists_one_line_per_recipe():
    out = CliRunner().invoke(cli, ["recipes"])
    assert out.exit_code == 0
    lines = out.output.strip().splitlines()
    assert len(lines) <= len(RECIPES) + 2, out.output  # one a recipe, a blank line, how to see more
    for line, (name, recipe) in zip(lines, RECIPES.items(), strict=False):
        assert line.startswith(name) and line.endswith(recipe.summary)
    assert "source:" not in out.output and "ganflow recipes NAME" in lines[-1] and "--details" in lines[-1]


def test_recipes_command_details_every_recipe():
    out = CliRunner().invoke(cli, ["recipes", "--details"])
    assert out.exit_code == 0
    for name, recipe in RECIPES.items():
        assert name in out.output and recipe.source in out.output
    assert "--arch dcgan64" in out.output and "--balance-margin 0.1" in out.output
    one = CliRunner().invoke(cli, ["recipes", "seed-celeb32"])
    assert one.exit_code == 0 and one.output.startswith("seed-celeb32:") and "seed-jhayes14" not in one.output
    assert "`optimizer1 = RMSprop(lr=0.0008, clipvalue=1.0, decay=6e-8)`" in one.output  # the seed's line
    assert "--clipvalue 1.0" in one.output and "ganflow differs:" in one.output
    assert CliRunner().invoke(cli, ["recipes", "seed-nope"]).exit_code != 0


# The smallest settings each recipe allows, so one epoch on the 100-face sample stays quick.
TINY = {
    "ganflow": {"g_filters": 8, "d_filters": 8},
    "seed-jhayes14": {"g_filters": 4, "d_filters": 4},
    "seed-celeba28": {"width": 0.0625},
    "seed-celeba28-mlp": {"width": 0.0625},
    "seed-ganhacks": {"g_filters": 8, "d_filters": 8},
    "seed-celeb32": {"g_filters": 8, "d_filters": 8},
    "celeb32-wgan-gp": {"g_filters": 8, "d_filters": 8},
    "seed-mlp": {"hidden_units": 32},
}


@pytest.fixture(scope="module")
def sample_data(tmp_path_factory):
    return tmp_path_factory.mktemp("sample-data")


@pytest.mark.slow
@pytest.mark.parametrize("recipe", list(RECIPES))
def test_each_recipe_runs_an_epoch_on_the_sample(prefect_server, sample_data, tmp_path, recipe):
    assert set(TINY) == set(RECIPES)
    params = RunParams(
        recipe=recipe, epochs=1, eval_images=16, run_dir=tmp_path / "run", data_dir=sample_data, **TINY[recipe]
    )
    result = ganflow(**of_run(params))
    assert result.states["train"] == "Completed" and result.steps_trained >= 1
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["params"]["recipe"] == recipe
    for name, value in RECIPES[recipe].settings.items():
        if name not in TINY[recipe] and name != "epochs":
            assert summary["params"][name] == value, name
    assert summary["dataset"]["count"] == 100
    assert (tmp_path / "run" / "generator.keras").exists()
    grid = imageio.v3.imread(tmp_path / "run" / "samples" / "epoch_0001.png")
    assert grid.std() > 1.0  # the grid shows G's images in its own range (a sigmoid G's [0, 1] too)
    assert (tmp_path / "run" / "progress.gif").exists()
    header, row = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    assert header.split(",")[4:6] == ["d_extra", "g_extra"] and row.startswith("1,")


def test_the_default_recipe_is_the_one_chosen_on_colour_faces():
    """docs/quality.md, 'How the default was chosen': both networks at 4e-4, with an EMA generator."""
    params = RunParams()
    assert (params.lr_g, params.lr_d, params.ema) == (4e-4, 4e-4, 0.999)
