"""One run checks its options once and builds each step's spec once, however it was started (issue 22).

The CLI validates what was typed before it starts the flow, and the flow validates its parameters when a
deployment starts it; a `ganflow run` must not do both. Spies count our own functions' calls; they change
nothing they count.
"""

import pytest
from click.testing import CliRunner

import flows.params
import flows.specs

pytestmark = pytest.mark.slow

SPECS = ("acquire_spec", "preprocess_spec", "train_spec", "evaluate_spec")


def _count_calls(monkeypatch, module, names: tuple[str, ...]) -> dict[str, int]:
    """Wrap each function `module.<name>` so that its calls are counted (and it still runs)."""
    calls = dict.fromkeys(names, 0)
    for name in names:
        real = getattr(module, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            calls[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, name, spy)
    return calls


def test_one_run_validates_its_options_once_and_builds_each_spec_once(params, monkeypatch):
    from flows.cli import cli
    from flows.ganflow import ganflow

    # Every validation that passes runs the rules on resolved values once; the source is parsed and the
    # GanConfig built on the way, and the specs take both from it.
    checks = _count_calls(monkeypatch, flows.params, ("resolved_conflicts", "parse_source", "gan_config_of"))
    specs = _count_calls(monkeypatch, flows.specs, SPECS)
    typed = ["--source", params.source, "--size", "28", "--channels", "1", "--batch-size", "4", "--latent-dim", "16"]
    folders = ["--run-dir", str(params.run_dir), "--data-dir", str(params.data_dir), "--epochs", "2"]
    out = CliRunner().invoke(cli, ["run", *typed, *folders])
    assert out.exit_code == 0, out.output
    assert checks == {"resolved_conflicts": 1, "parse_source": 1, "gan_config_of": 1}
    assert specs == dict.fromkeys(SPECS, 1)

    # As a deployment starts it: plain parameters, validated by the flow, once (every step cached now).
    checks.update(dict.fromkeys(checks, 0))
    specs.update(dict.fromkeys(specs, 0))
    flat = {"source": params.source, "size": 28, "channels": 1, "epochs": 2, "batch_size": 4}
    result = ganflow(**flat, run_dir=params.run_dir, data_dir=params.data_dir, options={"latent_dim": 16})
    assert set(result.states.values()) == {"Cached"}  # the same options as the CLI's: the same run
    assert checks == {"resolved_conflicts": 1, "parse_source": 1, "gan_config_of": 1}
    assert specs == dict.fromkeys(SPECS, 1)
