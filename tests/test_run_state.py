"""Run state you can trust (issue 12): one run per folder, caches that verify, checkpoints that fall back,
cache keys that cover the code, and run folders that know their data."""

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ganmodels.config import GanConfig
from tasks.acquire.task import AcquiredImages, Source, list_images
from tasks.errors import UserError
from tasks.hashing import file_sha256
from tasks.preprocess.task import preprocess_images
from tasks.run_folder import RunFolder, RunFolderBusy
from tasks.train.options import TrainOptions

ROOT = Path(__file__).resolve().parents[1]


def _acquired(folder: Path) -> AcquiredImages:
    return AcquiredImages(Source("folder", str(folder)), folder, f"test:{folder.name}", len(list_images(folder)))


def _env(**extra: str) -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]), **extra}


# One run per run folder ------------------------------------------------------------------------------

HOLD = """
import sys, time
from tasks.run_folder import RunFolder
with RunFolder(sys.argv[1]).locked():
    print("locked", flush=True)
    time.sleep(600)
"""


def test_a_held_run_folder_refuses_at_once_naming_the_holder_and_kill_9_frees_it(tmp_path):
    run = RunFolder(tmp_path / "run")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(run.root)], env=_env(), stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(RunFolderBusy, match=rf"in use by another ganflow run \(pid {holder.pid}\)"), run.locked():
            pass
        assert time.monotonic() - started < 1  # at once, never waiting
        with RunFolder(tmp_path / "other").locked():  # another folder is free
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with run.locked():  # the kernel dropped the dead holder's lock: nothing stale
        assert run.lock_file.read_text().strip() == str(os.getpid())


def _cli_run(faces: Path, run_dir: Path, data_dir: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "flows.cli", "run", "--source", str(faces), "--size", "28", "--channels", "1",
        "--batch-size", "4", "--latent-dim", "16", "--g-filters", "8", "--d-filters", "8",
        "--run-dir", str(run_dir), "--data-dir", str(data_dir), *extra,
    ]  # fmt: skip


@pytest.mark.slow
def test_two_runs_on_one_folder_the_second_stops_with_one_line(prefect_server, make_faces, tmp_path):
    faces, run_dir = make_faces(16), tmp_path / "run"
    env = _env(PREFECT_API_URL=prefect_server)
    log = open(tmp_path / "first.log", "w+")  # noqa: SIM115 - read back after the process ends
    first = subprocess.Popen(
        _cli_run(faces, run_dir, tmp_path / "data", "--seed", "1", "--epochs", "40", "--eval-every", "0"),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        while not (run_dir / "checkpoints" / "checkpoint").exists():  # the first is training
            assert first.poll() is None and time.monotonic() < deadline, "the first run ended before training"
            time.sleep(0.05)
        second = subprocess.run(
            _cli_run(faces, run_dir, tmp_path / "data2", "--seed", "2", "--epochs", "40", "--eval-every", "0"),
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        still_training = first.poll() is None
        first.wait(timeout=600)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    assert second.returncode != 0
    assert still_training, "the first run finished before the second one asked; the test proves nothing"
    lines = [line for line in second.stderr.splitlines() if line.startswith("Error:")]
    assert lines == [f"Error: --run-dir {run_dir} is in use by another ganflow run (pid {first.pid}); "
                     "wait for it to finish, or choose another --run-dir"]  # fmt: skip
    assert "Traceback" not in second.stderr and not (tmp_path / "data2").exists()  # it did no work at all
    log.seek(0)
    assert first.returncode == 0, log.read()[-3000:]
    run = RunFolder(run_dir)
    assert run.read_summary()["params"]["seed"] == 1 and run.read_config()["config"]["seed"] == 1
    assert [int(r["epoch"]) for r in run.read_metrics()] == list(range(1, 41))


# Verified reuse -----------------------------------------------------------------------------------


def _damage(npy: Path, how: str) -> None:
    if how == "flipped":
        with open(npy, "r+b") as f:  # 4 KB overwritten inside the array, same size
            f.seek(os.path.getsize(npy) // 2)
            flipped = bytes(255 - b for b in f.read(4096))
            f.seek(os.path.getsize(npy) // 2)
            f.write(flipped)
    else:
        os.truncate(npy, os.path.getsize(npy) - 1000)


@pytest.mark.parametrize("how", ["flipped", "truncated"])
def test_a_damaged_cache_is_named_once_and_rebuilt(make_faces, tmp_path, caplog, how):
    acquired = _acquired(make_faces(40))
    built = preprocess_images(acquired, 32, 3, "center", tmp_path)
    good = file_sha256(built.npy)
    _damage(built.npy, how)
    assert built.cache_problem()  # what the Prefect cache policy asks before it reuses the result
    caplog.set_level("WARNING", logger="ganflow")
    again = preprocess_images(acquired, 32, 3, "center", tmp_path)
    warnings = [r.getMessage() for r in caplog.records if "damaged" in r.getMessage()]
    assert len(warnings) == 1 and str(built.npy) in warnings[0] and "rebuilt, not used" in warnings[0]
    assert again.npy == built.npy and file_sha256(again.npy) == good == again.sha256
    assert again.cache_problem() is None
    caplog.clear()
    preprocess_images(acquired, 32, 3, "center", tmp_path)  # intact now: reused without a word
    assert "damaged" not in caplog.text


@pytest.mark.slow
def test_the_flow_does_not_serve_a_damaged_cache_from_prefects_cache(params):
    from flows.flow_parameters import of_run
    from flows.ganflow import ganflow

    first = ganflow(**of_run(params))
    data = json.loads(first.summary.read_text())["dataset"]
    npy = Path(data["npy"])
    _damage(npy, "flipped")
    again = ganflow(**of_run(params))
    assert again.states["preprocess"] == "Completed"  # not Cached: the step saw the damage and rebuilt
    assert file_sha256(npy) == data["sha256"]
    assert again.states["train"] == "Cached"  # same data, same code: nothing else to repeat


def _flip(path: Path, count: int = 64) -> None:
    """Invert `count` bytes in the middle of a file: same size, other bytes."""
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)
        flipped = bytes(255 - b for b in f.read(count))
        f.seek(os.path.getsize(path) // 2)
        f.write(flipped)


def _weights(model_file: Path) -> list[np.ndarray]:
    from ganmodels.tf import keras

    return keras.models.load_model(model_file, compile=False).get_weights()


def _same_weights(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_a_file_stamp_sees_other_bytes_of_the_same_size_and_keeps_its_record(tmp_path):
    from tasks.caching import cache_problems
    from tasks.hashing import FileStamp, stamps
    from tasks.progress_gif import ProgressGif

    path = tmp_path / "progress.gif"
    path.write_bytes(bytes(range(256)) * 4)
    stamp = FileStamp.of(path)
    result = ProgressGif(path, 1, stamps(path, None, tmp_path / "absent"))
    assert result.stamps == (stamp,) and cache_problems(result) == []
    assert FileStamp.from_record(path, stamp.record()) == stamp and FileStamp.from_record(path, {}) is None
    _flip(path)
    assert stamp.problem() == "its sha256 differs from the one written"
    assert cache_problems(result) == [f"{path} changed since it was written (its sha256 differs from the one written)"]
    os.truncate(path, 10)
    assert stamp.problem() == "it has 10 bytes, 1024 were written"


@pytest.mark.slow
def test_flipped_bytes_in_the_generator_and_the_gif_are_named_once_and_rebuilt_without_training(params, caplog):
    from flows.flow_parameters import of_run
    from flows.ganflow import ganflow

    run = RunFolder(params.run_dir)
    ganflow(**of_run(params))
    unchanged = ganflow(**of_run(params))
    assert set(unchanged.states.values()) == {"Cached"}  # the stamps match: caching still holds
    gif, weights, metrics = run.gif.read_bytes(), _weights(run.generator), run.read_metrics()
    _flip(run.generator)
    _flip(run.gif)
    caplog.set_level("INFO")
    caplog.clear()
    again = ganflow(**of_run(params))
    assert again.states["train"] == again.states["render"] == "Completed"
    refused = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "not reused" in r.msg]
    assert len(refused) == 2, refused  # one line per step, naming the file
    assert f"train: the cached result is not reused: {run.generator} changed since it was written" in refused[0]
    assert f"render: the cached result is not reused: {run.gif} changed since it was written" in refused[1]
    assert any(f"{run.generator} rebuilt from the best checkpoint" in r.getMessage() for r in caplog.records)
    assert again.steps_trained == 0 and run.read_metrics() == metrics  # no epoch trained again
    assert _same_weights(_weights(run.generator), weights)  # the best epoch's generator, from its checkpoint
    assert run.gif.read_bytes() == gif  # drawn again from the same grids
    assert set(ganflow(**of_run(params)).states.values()) == {"Cached"}  # intact again: reused


@pytest.mark.slow
def test_train_puts_back_a_damaged_generator_and_says_restart_when_the_best_checkpoint_is_damaged_too(
    make_faces, tmp_path, caplog
):
    from ganmodels.tf import tf

    data = preprocess_images(_acquired(make_faces(8)), 28, 1, "center", tmp_path / "data")
    run = RunFolder(tmp_path / "run")
    first = _train(data, run.root, 2, eval_every=1)
    assert first.best_epoch is not None
    weights = _weights(run.generator)
    _flip(run.generator)
    caplog.set_level("INFO", logger="ganflow")
    again = _train(data, run.root, 2, eval_every=1)
    assert again.steps_run == 0 and _same_weights(_weights(run.generator), weights)
    assert (
        f"{run.generator} rebuilt from the best checkpoint (epoch {first.best_epoch}), without training" in caplog.text
    )
    caplog.clear()
    _train(data, run.root, 2, eval_every=1)  # intact: left alone
    assert "rebuilt" not in caplog.text

    _flip(run.generator)
    best = tf.train.latest_checkpoint(str(run.best_checkpoints))
    for data_file in Path(best).parent.glob(Path(best).name + ".data-*"):
        os.truncate(data_file, 100)
    with pytest.raises(UserError, match=r"generator.keras cannot be rebuilt: the best checkpoint .* does not "
                       r"restore .*; pass --restart"):  # fmt: skip
        _train(data, run.root, 2, eval_every=1)


# Checkpoints that fall back ------------------------------------------------------------------------------


CONFIG = GanConfig(size=28, channels=1, batch_size=4, latent_dim=16, g_filters=8, d_filters=8)


def _train(data, run_dir: Path, epochs: int, **options):
    from tasks.train.task import train_gan

    return train_gan(data, CONFIG, TrainOptions(epochs=epochs, **options), run_dir)


def _truncate_newest(run_dir: Path) -> str:
    from ganmodels.tf import tf

    prefix = tf.train.latest_checkpoint(str(run_dir / "checkpoints"))
    (data_file,) = Path(prefix).parent.glob(Path(prefix).name + ".data-*")
    os.truncate(data_file, data_file.stat().st_size // 3)
    return Path(prefix).name


@pytest.fixture
def trained(make_faces, tmp_path):
    data = preprocess_images(_acquired(make_faces(8)), 28, 1, "center", tmp_path / "data")
    _train(data, tmp_path / "run", 2)  # checkpoints at steps 2 and 4
    return data, tmp_path / "run"


def test_a_truncated_newest_checkpoint_falls_back_to_the_one_before(trained, caplog):
    data, run_dir = trained
    bad = _truncate_newest(run_dir)
    caplog.set_level("INFO", logger="ganflow")
    model = _train(data, run_dir, 3)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "does not restore" in r.msg]
    assert len(warned) == 1 and bad in warned[0] and "trying the one before it" in warned[0]
    assert "resuming at step 2: epoch 2, batch 0" in caplog.text
    assert model.steps_run == 4 and model.epochs == 3  # epochs 2 and 3 again, from ckpt-2
    assert [int(r["epoch"]) for r in RunFolder(run_dir).read_metrics()] == [1, 2, 3]
    sizes = {p.name.split(".")[0]: p.stat().st_size for p in (run_dir / "checkpoints").glob("ckpt-*.data-*")}
    assert sizes[bad] == sizes["ckpt-6"]  # the damaged one was dropped, and step 4 written again whole


def test_generate_latest_falls_back_too_and_none_restoring_is_one_line(trained, tmp_path, caplog):
    from flows.cli import cli

    _, run_dir = trained
    bad = _truncate_newest(run_dir)
    caplog.set_level("WARNING", logger="ganflow")
    args = ["generate", "--run-dir", str(run_dir), "--checkpoint", "latest", "--num", "2", "--out", str(tmp_path / "g")]
    out = CliRunner().invoke(cli, args)
    assert out.exit_code == 0, out.output
    assert len(list((tmp_path / "g").glob("*.png"))) == 2
    assert any(bad in r.getMessage() and "does not restore" in r.getMessage() for r in caplog.records)
    assert list((run_dir / "checkpoints").glob(bad + ".*"))  # generate reads; it never deletes

    for data_file in (run_dir / "checkpoints").glob("ckpt-*.data-*"):
        os.truncate(data_file, 100)
    out = CliRunner().invoke(cli, args)
    assert out.exit_code == 1 and "Traceback" not in out.output
    assert "restores; pass --restart" in out.output


def test_training_with_no_checkpoint_that_restores_says_so_in_one_line(trained):
    data, run_dir = trained
    for data_file in (run_dir / "checkpoints").glob("ckpt-*.data-*"):
        os.truncate(data_file, 100)
    with pytest.raises(UserError, match=r"none of the 2 checkpoints in .* restores; pass --restart"):
        _train(data, run_dir, 3)
    assert _train(data, run_dir, 3, restart=True).steps_run == 6


# Code identity in cache keys ------------------------------------------------------------------------------

STEPS = """
import json, sys
from pathlib import Path
from prefect import flow
from tasks.acquire.task import AcquireSpec, acquire, parse_source
from tasks.preprocess.image_decode import DecodeSettings
from tasks.preprocess.task import PreprocessSpec, preprocess

@flow
def steps(source: str, data_dir: Path) -> dict:
    got = acquire(spec=AcquireSpec(parse_source(source), data_dir), return_state=True)
    spec = PreprocessSpec(DecodeSettings(28, 1, "center"), data_dir)
    pre = preprocess(acquired=got.result(), spec=spec, return_state=True)
    return {"acquire": got.name, "preprocess": pre.name}

print(json.dumps(steps(sys.argv[1], Path(sys.argv[2]))))
"""


@pytest.mark.slow
def test_a_changed_helper_module_invalidates_its_step_and_no_change_stays_cached(prefect_server, tiny_faces, tmp_path):
    copy = tmp_path / "copy"
    for package in ("flows", "tasks", "ganmodels"):
        shutil.copytree(ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**_env(PREFECT_API_URL=prefect_server, GANFLOW_STATE_DIR=str(tmp_path / "state")), "PYTHONPATH": str(copy)}

    def states() -> dict:
        out = subprocess.run(
            [sys.executable, "-c", STEPS, str(tiny_faces), str(tmp_path / "data")],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )
        assert out.returncode == 0, out.stderr[-3000:]
        return json.loads(out.stdout.strip().splitlines()[-1])

    assert states()["preprocess"] == "Completed"
    assert states() == {"acquire": "Cached", "preprocess": "Cached"}  # no change: nothing repeats
    helper = copy / "tasks" / "preprocess" / "crops.py"  # a helper, not the task wrapper
    helper.write_text(helper.read_text() + "\nCHANGED = True\n")
    assert states() == {"acquire": "Cached", "preprocess": "Completed"}  # the new code ran


# A run folder knows its data --------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_changed_crop_on_a_run_folder_is_refused_and_restart_takes_it(params):
    from flows.flow_parameters import of_run
    from flows.ganflow import ganflow

    ganflow(**of_run(params))
    record = RunFolder(params.run_dir).read_config()["data"]
    assert record["crop"] == "center" and record["size"] == 28 and len(record["sha256"]) == 64
    with pytest.raises(
        UserError, match=r"was trained on other data \(crop center -> pad, sha256 .*--restart.*--run-dir"
    ):
        ganflow(**of_run(params.model_copy(update={"crop": "pad"})))
    fresh = ganflow(**of_run(params.model_copy(update={"crop": "pad", "restart": True})))
    assert fresh.steps_trained == 4 and RunFolder(params.run_dir).read_config()["data"]["crop"] == "pad"


def test_restart_refuses_a_folder_that_is_not_a_run_folder(prefect_server, tiny_faces, tmp_path):
    from flows.cli import cli

    folder = tmp_path / "my-photos"
    (folder / "samples").mkdir(parents=True)
    (folder / "samples" / "holiday.png").write_bytes(b"precious")
    (folder / "metrics.csv").write_text("mine\n")
    args = ["run", "--restart", "--source", str(tiny_faces), "--run-dir", str(folder), "--data-dir", str(tmp_path)]
    out = CliRunner().invoke(cli, args)
    assert out.exit_code == 1, out.output
    assert f"--restart: {folder} is not a ganflow run folder" in out.output and "Traceback" not in out.output
    assert (folder / "samples" / "holiday.png").read_bytes() == b"precious"
    assert (folder / "metrics.csv").read_text() == "mine\n"
    assert not list(tmp_path.glob("*px*"))  # refused before any step ran


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under `folder` with its bytes (None for a folder)."""
    return {str(p.relative_to(folder)): None if p.is_dir() else p.read_bytes() for p in sorted(folder.rglob("*"))}


def test_a_refused_restart_leaves_the_folder_byte_for_byte_unchanged(prefect_server, tiny_faces, tmp_path):
    from flows.cli import cli

    folder = tmp_path / "my-photos"
    (folder / "checkpoints").mkdir(parents=True)
    (folder / "checkpoints" / "notes.txt").write_bytes(b"mine")
    (folder / "holiday.png").write_bytes(b"precious")
    before, mtime = _snapshot(folder), folder.stat().st_mtime_ns
    args = ["run", "--restart", "--source", str(tiny_faces), "--run-dir", str(folder), "--data-dir", str(tmp_path)]
    out = CliRunner().invoke(cli, args)
    assert out.exit_code == 1 and "is not a ganflow run folder" in out.output, out.output
    assert _snapshot(folder) == before  # no .lock, no marker: nothing written, nothing deleted
    assert folder.stat().st_mtime_ns == mtime


def test_restart_clears_only_what_training_wrote_in_a_marked_folder(tmp_path):
    run = RunFolder(tmp_path / "run")
    run.mark()
    for path in (run.sample(1), run.config_record, run.tensorboard / "events"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    run.write_metrics([{"epoch": 1, "step": 2}])
    (run.root / "notes.txt").write_text("mine")
    run.clear_training()
    assert not run.samples.exists() and not run.checkpoints.exists() and not run.metrics.exists()
    assert (run.root / "notes.txt").read_text() == "mine" and run.marker.exists()


def test_the_run_folder_records_round_trip(tmp_path):
    run = RunFolder(tmp_path)
    assert run.read_metrics() == [] and run.trained_epochs() == 0 and run.read_config() is None
    run.write_metrics([{"epoch": 1, "step": 4, "d_loss": 0.5, "g_loss": 0.7}, {"epoch": 2, "step": 8}])
    assert run.trained_epochs() == 2 and run.read_metrics()[0]["d_loss"] == "0.5"
    run.write_summary(params={"seed": np.int64(3).item()}, outputs={"gif": run.gif})
    assert run.read_summary() == {"params": {"seed": 3}, "outputs": {"gif": str(run.gif)}}
