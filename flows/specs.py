"""One typed spec per step, built once from validated options: what each task is handed, and all it is told.

`RunParams` (flows/params.py) is the one pass over what the user gave; it parses `--source` and builds the
`GanConfig` on its way, and the specs take both from it. A task checks nothing its spec guarantees: the
rules across options are in flows/option_checks.py, the model's own in ganmodels/config.py.
"""

from dataclasses import dataclass, replace

from flows.params import RunParams
from ganmodels.backend import current_backend
from tasks.acquire.sources.archive import ExtractLimits
from tasks.acquire.task import AcquireSpec
from tasks.preprocess.chunk_runners import ChunkRunner
from tasks.preprocess.image_decode import DecodeSettings
from tasks.preprocess.task import PreprocessSpec
from tasks.report.evaluate_spec import EvaluateSpec
from tasks.train.options import TrainSpec


@dataclass(frozen=True)
class RunSpecs:
    """The specs of one run's steps (render needs none: it reads what training wrote)."""

    acquire: AcquireSpec
    preprocess: PreprocessSpec
    train: TrainSpec
    evaluate: EvaluateSpec


def acquire_spec(params: RunParams) -> AcquireSpec:
    limits = ExtractLimits(int(params.max_extract_bytes), params.max_extract_entries)
    return AcquireSpec(params.parsed_source(), params.data_dir, params.sha256, limits, params.http_auth_secret)


def preprocess_spec(params: RunParams) -> PreprocessSpec:
    settings = DecodeSettings(params.size, params.channels, params.crop, params.min_side, params.max_pixels)
    runner = ChunkRunner(params.workers, params.task_runner, params.dask_address)
    return PreprocessSpec(settings, params.data_dir, params.dedupe, runner)


def train_spec(params: RunParams) -> TrainSpec:
    """Training as the options say, on the backend this process chose (a JAX run never reuses a TF result)."""
    options = replace(params.train_options(), backend=current_backend())
    return TrainSpec(params.gan_config(), options, params.run_dir, params.more_epochs)


def evaluate_spec(params: RunParams) -> EvaluateSpec:
    return EvaluateSpec(params.run_dir, params.eval_images, params.inception_weights)


def run_specs(params: RunParams) -> RunSpecs:
    """Every step's spec, for a run with these (validated) options."""
    return RunSpecs(acquire_spec(params), preprocess_spec(params), train_spec(params), evaluate_spec(params))
