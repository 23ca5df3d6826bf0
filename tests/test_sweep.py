"""`ganflow sweep` on tiny data: the report, reuse of finished runs, a killed run resumed, and two pool workers."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows.sweep import SweepParams, ganflow_sweep

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
TINY = {"size": 28, "channels": 1, "epochs": 2, "batch_size": 4, "latent_dim": 16, "eval_images": 8}


def _options(faces: Path, tmp_path: Path) -> dict:
    return {"source": str(faces), **TINY, "data_dir": str(tmp_path / "data")}


def _report(sweep_dir: Path) -> dict:
    return json.loads((sweep_dir / "sweep.json").read_text())


def _assert_complete(sweep_dir: Path, names: list[str]) -> dict:
    report = _report(sweep_dir)
    assert [c["name"] for c in report["children"]] == names
    for child in report["children"]:
        assert child["swd"] > 0 and child["epochs"] >= 2 and child["steps"] > 0
        assert child["ndb_bins"] and child["ms_ssim_fake"] is not None and child["memorized"] is not None
        assert child["colour"] >= 0 and 0 <= child["hist"] <= 1 and child["spread_real"] > 0
        assert child["spread_fake"] is not None and child["scored_against"] == "training"  # 8 faces: no held-out
        assert child["last_grid"] and Path(child["last_grid"]).parent.parent == Path(child["run_dir"])
    assert (sweep_dir / "sweep.png").stat().st_size > 0
    md = (sweep_dir / "sweep.md").read_text()
    assert all(name in md for name in names) and "Ranking by SWD" in md
    assert "colour mean" in md and "colour spread" in md and "histogram" in md
    return report


def test_local_sweep_writes_the_report_and_a_rerun_reuses_it(prefect_server, tiny_faces, tmp_path):
    spec = SweepParams(options=_options(tiny_faces, tmp_path), grid={"seed": [0, 1]}, sweep_dir=tmp_path / "sweep")
    result = ganflow_sweep(sweep=spec)
    report = _assert_complete(result.sweep_dir, ["seed-0", "seed-1"])
    assert [c["state"] for c in report["children"]] == ["completed", "completed"]
    assert len(list((tmp_path / "data").glob("*/images.npy"))) == 1  # one shared cache
    ranking = report["ranking"]
    assert len(ranking) == 1 and ranking[0]["scored"] == 2 and ranking[0]["swd_sd"] >= 0
    assert ranking[0]["colour_mean"] >= 0 and ranking[0]["colour_sd"] >= 0

    again = ganflow_sweep(sweep=spec)
    assert [c["state"] for c in _report(again.sweep_dir)["children"]] == ["reused", "reused"]


def test_a_bad_grid_value_is_one_line_before_anything_starts(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-m", "flows.cli", "sweep", "--grid", "size=28,30", "--sweep-dir", str(tmp_path / "s")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode != 0 and "size=30" in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and not (tmp_path / "s").exists()


def test_a_killed_child_resumes_from_its_checkpoint_and_the_others_are_reused(tiny_faces, tmp_path):
    sweep_dir = tmp_path / "sweep"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GANFLOW_STATE_DIR": str(tmp_path / "state")}
    args = [sys.executable, "-m", "flows.cli", "sweep", "--source", str(tiny_faces), "--sweep-dir", str(sweep_dir)]
    args += ["--data-dir", str(tmp_path / "data"), "--checkpoint-every", "2", "--eval-every", "0"]
    args += ["--size", "28", "--channels", "1", "--batch-size", "4", "--latent-dim", "16", "--eval-images", "8"]
    args += ["--grid", "epochs=2,150"]
    log = open(tmp_path / "first.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    long_run = sweep_dir / "epochs-150" / "checkpoints"
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline and proc.poll() is None and not list(long_run.glob("ckpt-*.index")):
        time.sleep(0.5)
    assert proc.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    short_summary = sweep_dir / "epochs-2" / "summary.json"
    finished_at = short_summary.stat().st_mtime_ns

    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    report = _report(sweep_dir)
    short, long = report["children"]
    assert short["state"] == "reused" and short_summary.stat().st_mtime_ns == finished_at
    assert long["state"] == "completed" and long["epochs"] == 150
    assert 0 < long["steps_last_run"] < long["steps"] == 300  # resumed from the checkpoint, not restarted


def test_ganflow_retry_of_a_failed_sweep_reruns_only_the_failed_child(prefect_server, tiny_faces, tmp_path):
    sweep_dir = tmp_path / "sweep"
    sweep_dir.mkdir()
    (sweep_dir / "seed-1").write_text("in the way")  # the second child cannot make its run folder
    spec = SweepParams(options=_options(tiny_faces, tmp_path), grid={"seed": [0, 1]}, sweep_dir=sweep_dir)
    state = ganflow_sweep(sweep=spec, return_state=True)
    assert state.is_failed() and "seed-1" in state.message
    assert [c["state"] for c in _report(sweep_dir)["children"]] == ["completed", "failed"]
    (sweep_dir / "seed-1").unlink()

    env = {**os.environ, "PYTHONPATH": str(ROOT), "PREFECT_API_URL": prefect_server}
    run_id = str(state.state_details.flow_run_id)
    out = subprocess.run(
        [sys.executable, "-m", "flows.cli", "retry", run_id], env=env, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert [c["state"] for c in _report(sweep_dir)["children"]] == ["reused", "completed"]
