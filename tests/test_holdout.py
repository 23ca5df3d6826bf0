"""The held-out split: fixed and seeded, disjoint, the right size, never trained on, scored against."""

import json

import numpy as np
import pytest

from flows.params import RunParams
from tasks.preprocess.split import MIN_HELD_OUT, MIN_SET_SIZE, Rows, Split, held_out_count


@pytest.mark.parametrize(
    "total, fraction, expected",
    [
        (100, 0.1, 0),  # the built-in sample: too small to hold anything out
        (MIN_SET_SIZE - 1, 0.1, 0),
        (MIN_SET_SIZE, 0.1, MIN_HELD_OUT),  # never below 256 ...
        (2000, 0.1, MIN_HELD_OUT),
        (10_000, 0.1, 1000),  # ... else the share asked for
        (200_000, 0.25, 50_000),
        (2000, 0.25, 500),
        (10_000, 0.0, 0),  # 0 turns it off
    ],
)
def test_held_out_count(total, fraction, expected):
    assert held_out_count(total, fraction) == expected


def test_the_split_is_deterministic_disjoint_and_complete():
    a, b = Split.of(5000, 0.1), Split.of(5000, 0.1)
    assert np.array_equal(a.held_out_indices, b.held_out_indices) and a.record() == b.record()
    held, train = set(a.held_out_indices.tolist()), set(a.train_indices.tolist())
    assert len(held) == 500 and not held & train and held | train == set(range(5000))
    assert a.held_out_indices.max() > 4000  # a random share, not the tail or the head
    assert a.held_out_indices.min() < 1000
    again = Split.from_record(a.record(), 5000)
    assert np.array_equal(again.held_out_indices, a.held_out_indices)
    assert Split.from_record(None, 5000).held_out == 0  # a run folder from before splits trained on everything


def test_rows_read_like_the_rows_they_stand_for():
    array = np.arange(20 * 2).reshape(20, 2, 1, 1).astype(np.uint8)
    rows = Rows(array, np.array([1, 4, 9, 16]))
    assert len(rows) == 4 and rows.shape == (4, 2, 1, 1) and rows.dtype == np.uint8
    assert np.array_equal(rows[np.array([3, 0])], array[[16, 1]])
    assert np.array_equal(rows[1:3], array[[4, 9]]) and np.array_equal(np.asarray(rows), array[[1, 4, 9, 16]])


def test_the_option_is_validated_and_names_a_new_folder_only_when_changed(tmp_path):
    default = RunParams(data_dir=tmp_path)
    assert default.holdout == 0.1 and default.train_options().holdout == 0.1
    assert RunParams(data_dir=tmp_path, holdout=0).default_run_name() != default.default_run_name()
    with pytest.raises(ValueError, match="holdout"):
        RunParams(data_dir=tmp_path, holdout=0.6)


def _data(root, held_out_rows: np.ndarray):
    """1024 noise images, the held-out ones replaced by `held_out_rows`, as a preprocessed cache."""
    from tasks.preprocess.task import PreprocessedData

    root.mkdir()
    images = np.random.default_rng(0).integers(0, 256, (MIN_SET_SIZE, 28, 28, 1), dtype=np.uint8)
    images[Split.of(MIN_SET_SIZE, 0.1).held_out_indices] = held_out_rows
    np.save(root / "images.npy", images)
    return PreprocessedData(root / "images.npy", root / "manifest.json", len(images), 0, "")


def _checkpoint(run_dir) -> dict[str, np.ndarray]:
    from ganmodels.tf import tf

    prefix = tf.train.latest_checkpoint(str(run_dir / "checkpoints"))
    names = [name for name, _ in tf.train.list_variables(prefix) if name != "_CHECKPOINTABLE_OBJECT_GRAPH"]
    return {name: tf.train.load_variable(prefix, name) for name in names}  # the graph holds Keras' layer names


@pytest.mark.slow
def test_training_never_sees_held_out_images_and_evaluate_reports_both_sets(tmp_path):
    from ganmodels.config import GanConfig
    from tasks.report.evaluate import evaluate_generator
    from tasks.report.generate import load_generator
    from tasks.run_folder import RunFolder
    from tasks.train.options import TrainOptions
    from tasks.train.task import train_gan

    cfg = GanConfig(size=28, channels=1, latent_dim=8, batch_size=64, g_filters=8, d_filters=8)
    options = TrainOptions(epochs=1, holdout=0.1)
    white = _data(tmp_path / "white", np.uint8(255))
    noise = _data(tmp_path / "noise", np.random.default_rng(1).integers(0, 256, (MIN_HELD_OUT, 28, 28, 1)))
    first = train_gan(white, cfg, options, tmp_path / "run-white")
    train_gan(noise, cfg, options, tmp_path / "run-noise")
    assert first.steps == (MIN_SET_SIZE - MIN_HELD_OUT) // 64  # an epoch is the training part's
    a, b = _checkpoint(tmp_path / "run-white"), _checkpoint(tmp_path / "run-noise")
    assert a.keys() == b.keys()
    for name in a:  # whatever the held-out images hold, training ends bit-identical
        assert np.array_equal(a[name], b[name]), name

    (row,) = RunFolder(tmp_path / "run-white").read_metrics()  # the per-epoch monitor: held-out, training beside
    assert float(row["colour"]) > float(row["colour_train"]) + 50 and float(row["spread_real"]) == 0.0
    record = json.loads((tmp_path / "run-white" / "checkpoints" / "config.json").read_text())["data"]["holdout"]
    assert record == first.split == Split.of(MIN_SET_SIZE, 0.1).record()
    result = evaluate_generator(
        load_generator(model=first.generator), white.npy, tmp_path / "run-white", count=MIN_HELD_OUT
    )
    report = json.loads(result.report.read_text())
    assert report["scored_against"] == "held-out" and report["images"] == MIN_HELD_OUT
    assert report["train"]["images"] == MIN_HELD_OUT and report["split"] == record
    # The white held-out set is far from the noise training set: its figures say so, side by side.
    assert report["colour"]["spread_real"] == 0.0 and report["train"]["colour"]["spread_real"] > 0
    assert report["colour"]["figure"] > report["train"]["colour"]["figure"] + 50
    assert result.colour == report["colour"]["figure"]


def test_a_run_folder_keeps_the_split_it_started_with(tmp_path, caplog):
    from tasks.run_folder import RunFolder
    from tasks.train.task import _split

    run = RunFolder(tmp_path / "run")
    assert _split(run, 2000, 0.1).held_out == MIN_HELD_OUT  # a new folder takes the option
    run.write_config({}, {}, {"sha256": "x"}, "f")  # a folder from before splits: it trained on everything
    with caplog.at_level("WARNING", logger="ganflow"):
        assert _split(run, 2000, 0.1).held_out == 0
    assert "before held-out splits" in caplog.text and "--restart" in caplog.text
    run.write_config({}, {}, {"holdout": Split.of(2000, 0.25).record()}, "f")
    assert _split(run, 2000, 0.1).held_out == 500  # resumed: the recorded split, whatever --holdout says now
