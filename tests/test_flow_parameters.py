"""The flow's parameters: flat everyday options plus one `options` group, built from RunParams; recipes win over
an empty form. No server: these read the flow's schema and convert parameters as the flow does."""

import pytest

from flows.flow_parameters import FLOW_FIELDS, OPTIONS, RunOptions, flow_parameters, of_run, run_params
from flows.ganflow import ganflow
from flows.params import RunParams, tunable_names
from flows.recipes import RECIPES
from tasks.errors import UserError


def form_defaults() -> dict:
    """What the UI form holds before anyone types: every parameter at its schema default."""
    return {name: prop.get("default") for name, prop in ganflow.parameters.properties.items()}


def test_every_option_is_a_flat_parameter_or_in_the_group_once():
    properties = ganflow.parameters.properties
    assert list(properties) == [*FLOW_FIELDS, OPTIONS]
    assert set(RunOptions.model_fields) == set(RunParams.model_fields) - set(FLOW_FIELDS)
    assert properties["epochs"]["anyOf"][0] == {"maximum": 1_000_000, "minimum": 1, "type": "integer"}  # bounds kept
    assert all(properties[name].get("description") for name in FLOW_FIELDS)  # the form explains each
    assert "runs/&lt;source&gt;" in properties["run_dir"]["description"]  # not eaten as an HTML tag by the UI


def test_fields_a_recipe_sets_are_empty_in_the_form():
    defaults = form_defaults()
    assert [n for n in tunable_names() if n in FLOW_FIELDS and defaults[n] is not None] == []
    assert [n for n in tunable_names() if n not in FLOW_FIELDS and defaults[OPTIONS][n] is not None] == []


@pytest.mark.parametrize("recipe", sorted(set(RECIPES) - {"ganflow"}))
def test_a_recipe_picked_in_an_untouched_form_takes_effect(recipe):
    params = run_params({**form_defaults(), "recipe": recipe})
    for name, value in RECIPES[recipe].settings.items():
        assert getattr(params, name) == value, name


def test_what_the_user_fills_in_beats_the_recipe():
    form = form_defaults()
    params = run_params({**form, "recipe": "seed-mlp", "size": 32, OPTIONS: {**form[OPTIONS], "hidden_units": 64}})
    assert (params.arch, params.size, params.hidden_units) == ("numpy-mlp", 32, 64)


def test_a_validated_run_round_trips_through_the_flow_parameters(tmp_path):
    params = RunParams(source="sample", epochs=3, latent_dim=8, run_dir=tmp_path / "run", data_dir=tmp_path / "d")
    parameters = of_run(params)
    assert parameters["epochs"] == 3 and parameters[OPTIONS]["latent_dim"] == 8 and "latent_dim" not in parameters
    assert run_params(parameters) == params


def test_only_given_options_become_parameters():
    assert flow_parameters({"epochs": 40}) == {"epochs": 40}
    assert flow_parameters({"epochs": 40, "ema": 0.9}) == {"epochs": 40, OPTIONS: {"ema": 0.9}}
    with pytest.raises(ValueError, match="not options of a run: nope"):
        flow_parameters({"nope": 1})


def test_a_value_only_the_model_can_refuse_is_one_line_naming_the_parameter(tmp_path):
    with pytest.raises(UserError, match=r"^parameter source: .*neither a known source"):
        run_params({"source": str(tmp_path / "missing")})
    with pytest.raises(UserError, match=r"^parameter options\.dask_address: applies with --task-runner dask"):
        run_params({OPTIONS: {"dask_address": "tcp://127.0.0.1:8786"}})


def test_every_optional_choice_is_one_list_with_empty_in_the_form():
    """The UI draws `Literal | None` as an "int | None" switch with no choices; one enum holding null is a select."""
    from prefect.utilities.callables import parameter_schema

    from flows.ganflow import ganflow

    schema = parameter_schema(ganflow).model_dump()
    fields = {**schema["properties"], **schema["definitions"]["RunOptions"]["properties"]}
    assert fields["size"]["enum"] == [28, 32, 64, None] and "anyOf" not in fields["size"]
    assert fields["crop"]["enum"] == ["center", "celeba", "pad", "none", None]
    assert fields["reuse_noise"]["enum"] == [True, False, None]
    for name, field in fields.items():
        choices = [branch for branch in field.get("anyOf", []) if "enum" in branch or branch.get("type") == "boolean"]
        assert not choices, f"{name} is still a switch in the form: {field}"
        if None in field.get("enum", []):  # what empty means: the recipe's value, or (not tunable) the default
            said = "Empty (None): the recipe's value" if name in tunable_names() else "Default: "
            assert said in field["description"], name
