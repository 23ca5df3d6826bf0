"""`--task-runner dask`: preprocessing chunks on a real Dask cluster give byte-identical output."""

import json
import os
from pathlib import Path

import pytest

from flows.flow_parameters import of_run
from flows.ganflow import ganflow
from flows.params import RunParams

pytestmark = pytest.mark.slow  # every test here starts servers, clusters, runs or training

pytest.importorskip("prefect_dask")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def two_worker_cluster(monkeypatch):
    """A 2-worker LocalCluster on 127.0.0.1 whose worker processes import this checkout."""
    from distributed import Client, LocalCluster

    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    local = {"host": "127.0.0.1", "dashboard_address": "127.0.0.1:0"}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, **local) as c, Client(c) as client:
        yield c, client


def _cache(data_dir: Path) -> tuple[bytes, str]:
    (folder,) = [p.parent for p in data_dir.glob("*/images.npy")]
    return (folder / "images.npy").read_bytes(), (folder / "manifest.json").read_text()


def test_dask_preprocessing_is_byte_identical_to_the_default_runner(
    prefect_server, make_faces, tmp_path, two_worker_cluster
):
    from distributed import get_task_stream

    cluster, client = two_worker_cluster
    faces = make_faces(600)  # 3 chunks of 256 files
    (faces / "img_05.png").write_bytes(b"not a PNG")  # a skipped file: its place in the manifest must match too
    base = RunParams(
        source=str(faces), size=28, channels=1, epochs=1, batch_size=32, latent_dim=8, data_dir=tmp_path / "default"
    )
    default = ganflow(**of_run(base.model_copy(update={"run_dir": tmp_path / "run-default"})))
    assert default.states["preprocess"] == "Completed"

    with get_task_stream(client) as stream:
        on_dask = ganflow(
            **of_run(
                RunParams(
                    **{
                        **base.model_dump(),
                        "data_dir": tmp_path / "dask",
                        "run_dir": tmp_path / "run-dask",
                        "task_runner": "dask",
                        "dask_address": cluster.scheduler_address,
                    }
                )
            )
        )
    assert on_dask.states["preprocess"] == "Completed"
    assert len(stream.data) == 3
    workers = {item["worker"] for item in stream.data}
    assert len(workers) == 2, f"the chunks did not spread over both workers: {workers}"

    npy, manifest = _cache(tmp_path / "default")
    dask_npy, dask_manifest = _cache(tmp_path / "dask")
    assert dask_npy == npy
    expected, got = json.loads(manifest), json.loads(dask_manifest)
    assert {k: v for k, v in got.items() if v != expected[k]} == {}
    assert '"reason": "not a decodable image"' in manifest


def test_without_an_address_a_local_cluster_is_started_and_stopped(prefect_server, make_faces, tmp_path, monkeypatch):
    import multiprocessing

    from tasks.acquire.task import acquire_images
    from tasks.preprocess.chunk_runners import chunk_map
    from tasks.preprocess.task import preprocess_images

    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    acquired = acquire_images(str(make_faces(6)), tmp_path / "data")
    default = preprocess_images(acquired, 32, 3, "center", tmp_path / "default")
    with chunk_map("dask") as map_chunks:
        assert multiprocessing.active_children(), "no local Dask workers were started"
        on_dask = preprocess_images(acquired, 32, 3, "center", tmp_path / "dask", map_chunks=map_chunks)
    assert not multiprocessing.active_children(), "the local cluster's workers outlived the step"
    assert on_dask.npy.read_bytes() == default.npy.read_bytes() and on_dask.count == 6
