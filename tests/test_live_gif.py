"""progress.gif while training: it grows epoch by epoch, its cost stays a small share, and training leaves the
GIF the render step writes."""

import imageio.v3 as iio
import numpy as np
import pytest

from ganmodels.config import GanConfig
from ganmodels.state import TrainingState
from tasks.preprocess.task import PreprocessedData
from tasks.progress_gif import render_gif
from tasks.run_folder import RunFolder
from tasks.train import callbacks as cb
from tasks.train.options import TrainOptions
from tasks.train.task import TrainingLoop, train_gan

pytestmark = pytest.mark.slow

CONFIG = GanConfig(size=28, channels=1, latent_dim=8, batch_size=4, g_filters=8, d_filters=8)


def _images() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (8, 28, 28, 1), dtype=np.uint8)


class _Watch(cb.Callback):
    """What a person looking at the run folder sees at each epoch's end: the GIF's frame count, if any."""

    def __init__(self, run: RunFolder):
        self.run, self.seen = run, []

    def on_epoch_end(self, loop, epoch, logs) -> None:
        gif = self.run.gif
        self.seen.append(iio.improps(gif, index=None).shape[0] if gif.exists() else None)


def _loop(run: RunFolder, epochs: int, live: cb.LiveGif) -> tuple[TrainingLoop, _Watch]:
    watch = _Watch(run)
    loop = TrainingLoop(TrainingState.build(CONFIG), _images(), epochs, [cb.SampleGrid(run), live, watch])
    loop.run()
    return loop, watch


def test_the_gif_grows_while_training_and_no_half_written_file_is_left(tmp_path):
    run = RunFolder(tmp_path / "run")
    live = cb.LiveGif(run, share=1e9)  # a render whenever an epoch ends
    _, watch = _loop(run, 3, live)
    assert watch.seen == [1, 2, 3]  # before any render step: the GIF was there after every epoch
    assert sorted(p.name for p in run.root.iterdir()) == ["progress.gif", "samples"]  # no temporary file left


def test_keeping_it_current_costs_a_small_share_and_the_end_leaves_the_full_gif(tmp_path):
    run = RunFolder(tmp_path / "run")
    live = cb.LiveGif(run)  # the default share, on epochs of a few milliseconds: most epochs skip the render
    _loop(run, 30, live)
    assert 1 < live.renders < 30
    frames = iio.improps(run.gif, index=None).shape[0]
    assert frames == 30  # the last epochs arrived after the last due render: drawn once more at the end
    again = tmp_path / "again.gif"
    render_gif(run.samples, again)
    assert run.gif.read_bytes() == again.read_bytes()  # what the render step writes


def test_train_gan_writes_the_gif_and_a_gif_that_cannot_be_written_does_not_stop_training(tmp_path, caplog):
    np.save(tmp_path / "images.npy", _images())
    data = PreprocessedData(tmp_path / "images.npy", tmp_path / "manifest.json", 8, 0, "")
    trained = train_gan(data, CONFIG, TrainOptions(epochs=2, eval_every=0), tmp_path / "run")
    assert iio.improps(tmp_path / "run" / "progress.gif", index=None).shape[0] == 2

    blocked = tmp_path / "blocked"
    (blocked / "progress.gif").mkdir(parents=True)  # a folder where the GIF goes
    caplog.set_level("WARNING")
    trained = train_gan(data, CONFIG, TrainOptions(epochs=2, eval_every=0), blocked)
    assert trained.steps_run == 4
    lines = [r.getMessage() for r in caplog.records if "cannot be written while training" in r.getMessage()]
    assert len(lines) == 1, lines  # said once, not at every epoch


def test_in_a_prefect_run_the_gif_card_is_one_per_flow_run_and_shows_the_newest_epoch(prefect_server, tmp_path):
    """The UI's GIF preview follows training (created once, then updated in place), and the run's end
    updates the same card instead of adding a second one to the flow run's page."""
    from prefect import flow, get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.context import get_run_context

    from tasks.prefect_artifacts import artifact_key
    from tasks.progress_gif import markdown_in_place, progress_markdown

    run = RunFolder(tmp_path / "run")
    seen, mine = [], {}

    def cards() -> list:
        with get_client(sync_client=True) as client:
            return client.read_artifacts(artifact_filter=mine["filter"])

    class Card(cb.Callback):
        def on_epoch_end(self, loop, epoch, logs) -> None:
            seen.append([f"all {epoch} epochs" in a.data for a in cards()])

    @flow
    def training() -> None:
        mine["filter"] = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[get_run_context().flow_run.id]))
        callbacks = [cb.SampleGrid(run), cb.LiveGif(run, share=1e9), Card()]
        TrainingLoop(TrainingState.build(CONFIG), _images(), 3, callbacks).run()
        markdown_in_place(artifact_key(run.root, "gif"), progress_markdown(run.samples, run.gif))  # the end's

    training()
    assert seen == [[True], [True], [True]]  # one card, showing every epoch so far
    assert len(cards()) == 1
