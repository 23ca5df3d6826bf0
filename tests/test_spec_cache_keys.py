"""Each step takes one spec, and its cache key covers the whole spec (Prefect's TASK_SOURCE sees only the
task's body): a changed option runs the step again; where preprocess's chunks run does not."""

from dataclasses import replace
from pathlib import Path

from ganmodels.config import GanConfig
from tasks.acquire.task import AcquiredImages, AcquireSpec, Source, acquire, parse_source
from tasks.preprocess.chunk_runners import ChunkRunner
from tasks.preprocess.image_decode import DecodeSettings
from tasks.preprocess.task import PreprocessedData, PreprocessSpec, preprocess
from tasks.train.options import TrainOptions, TrainSpec


def _key(task, **inputs) -> str:
    """The task's own cache key for these inputs (outside a run: no stored result to check)."""
    return task.cache_policy.compute_key(task_ctx=None, inputs=inputs, flow_parameters={})


def test_acquire_s_key_covers_its_spec(tmp_path):
    spec = AcquireSpec(parse_source("sample"), tmp_path)
    changed = [
        replace(spec, sha256="0" * 64),
        replace(spec, auth_secret="login"),
        replace(spec, data_dir=tmp_path / "other"),
    ]
    assert len({_key(acquire, spec=s) for s in [spec, *changed]}) == 4
    assert _key(acquire, spec=spec) == _key(acquire, spec=AcquireSpec(parse_source("sample"), tmp_path))


def test_preprocess_s_key_covers_its_spec_but_not_where_the_chunks_run():
    acquired = AcquiredImages(Source("folder", "/faces"), Path("/faces"), "folder:/faces:abc", 8)
    spec = PreprocessSpec(DecodeSettings(32, 3, "center"), Path("/data"))

    def key(s: PreprocessSpec) -> str:
        return _key(preprocess, acquired=acquired, spec=s)

    elsewhere = replace(spec, runner=ChunkRunner(workers=4, task_runner="dask", dask_address="tcp://10.0.0.5:8786"))
    assert key(elsewhere) == key(spec)
    changed = [
        replace(spec, settings=DecodeSettings(32, 3, "pad")),
        replace(spec, settings=DecodeSettings(32, 3, "center", min_side=8)),
        replace(spec, dedupe=True),
        replace(spec, data_dir=Path("/other")),
    ]
    assert len({key(s) for s in [spec, *changed]}) == 5


def test_train_and_evaluate_keys_cover_their_specs():
    from tasks.report.evaluate import EvaluateSpec, evaluate
    from tasks.train.task import train

    data = PreprocessedData(Path("/d/images.npy"), Path("/d/manifest.json"), 8, 0, "ab" * 32)
    spec = TrainSpec(GanConfig(size=28, channels=1), TrainOptions(epochs=2), Path("/runs/a"))
    changed = [
        replace(spec, config=GanConfig(size=28, channels=1, lr_g=1e-3)),
        spec.for_epochs(3),
        replace(spec, run_dir=Path("/runs/b")),
    ]
    assert len({_key(train, data=data, spec=s) for s in [spec, *changed]}) == 4

    report = EvaluateSpec(Path("/runs/a"), count=64)
    keys = {_key(evaluate, trained="model", data=data, spec=s) for s in [report, replace(report, count=128)]}
    assert len(keys) == 2
