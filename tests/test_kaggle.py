"""Kaggle sources: the real `kagglehub` client against a server on 127.0.0.1 that speaks Kaggle's API."""

import json
from pathlib import Path

import pytest
from loopback import KAGGLE_TOKEN, KaggleDataset, KaggleServer, image_bytes, serving, zip_bytes

from tasks.acquire.task import acquire_images, parse_source, source_key
from tasks.errors import NetworkError, UserError

CELEBA = "jessicali9530/celeba-dataset"


def celeba_zip(count: int = 3) -> bytes:
    """CelebA's Kaggle layout: the images two folders down, attribute CSVs beside them."""
    files = {f"img_align_celeba/img_align_celeba/{i:06d}.jpg": image_bytes(".jpg", (218, 178), i) for i in range(count)}
    return zip_bytes(
        {
            **files,
            "list_attr_celeba.csv": b"image_id,Smiling\n000000.jpg,1\n",
            "list_eval_partition.csv": b"image_id,partition\n000000.jpg,0\n",
        }
    )


@pytest.fixture
def kaggle_env(tmp_path, monkeypatch):
    """kagglehub pointed at 127.0.0.1:7777 with a token, an empty cache, and no credentials from this machine."""
    monkeypatch.setenv("KAGGLE_API_ENVIRONMENT", "TEST")
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kagglehub"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "home" / ".kaggle"))
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KAGGLE_API_TOKEN", KAGGLE_TOKEN)
    return tmp_path / "data"


@pytest.fixture
def kaggle_server():
    datasets = {
        CELEBA: KaggleDataset(version=3, archives={2: celeba_zip(2), 3: celeba_zip(3)}),
        "someone/faces": KaggleDataset(
            version=1, archives={1: zip_bytes({"meta.csv": b"x\n", "data/faces/a.png": image_bytes()})}
        ),
    }
    with serving(KaggleServer(datasets)) as server:
        yield server


def test_preset_picks_the_images_folder_pins_the_version_and_reruns_offline(kaggle_env, kaggle_server):
    data_dir = kaggle_env
    got = acquire_images("celeba", data_dir)
    assert got.num_files == 3
    assert got.images_dir.as_posix().endswith("/versions/3/img_align_celeba/img_align_celeba")
    assert got.identity == f"kaggle:{CELEBA}/versions/3:img_align_celeba/img_align_celeba"
    assert got.source.location == f"{CELEBA}/versions/3" and got.source.name == "celeba"
    assert kaggle_server.rpc_names() == ["GetDataset", "DownloadDataset"]
    assert kaggle_server.calls[1][1]["datasetVersionNumber"] == 3
    pin = json.loads((data_dir / "sources" / "kaggle" / "jessicali9530" / "celeba-dataset.json").read_text())
    assert pin["handle"] == f"{CELEBA}/versions/3"
    assert source_key("celeba", data_dir) == f"{CELEBA}/versions/3"  # part of acquire's cache key

    kaggle_server.datasets[CELEBA].version = 4  # a newer version appears: the pinned one is still used
    kaggle_server.shutdown()
    kaggle_server.server_close()
    again = acquire_images("celeba", data_dir)  # offline, from kagglehub's cache
    assert again.identity == got.identity and again.images_dir == got.images_dir


def test_a_versioned_handle_needs_no_lookup_and_the_images_folder_is_found(kaggle_env, kaggle_server):
    got = acquire_images("kaggle:someone/faces/versions/1", kaggle_env)
    assert kaggle_server.rpc_names() == ["DownloadDataset"]
    assert got.images_dir.name == "faces" and got.num_files == 1  # not the folder with meta.csv
    assert got.identity == "kaggle:someone/faces/versions/1:data/faces"
    older = acquire_images(f"kaggle:{CELEBA}/versions/2", kaggle_env)
    assert older.num_files == 2 and older.identity.startswith(f"kaggle:{CELEBA}/versions/2:")


def test_missing_or_refused_credentials_name_what_to_set(kaggle_env, kaggle_server, monkeypatch, tmp_path):
    monkeypatch.delenv("KAGGLE_API_TOKEN")
    with pytest.raises(UserError, match="no Kaggle credentials were found; set KAGGLE_API_TOKEN") as err:
        acquire_images("celeba", kaggle_env)
    assert "\n" not in str(err.value)

    monkeypatch.setenv("KAGGLE_API_TOKEN", "wrong-secret-value")
    with pytest.raises(UserError, match="denied access .* with the credentials from KAGGLE_API_TOKEN") as err:
        acquire_images("celeba", kaggle_env)
    assert "wrong-secret-value" not in str(err.value)

    monkeypatch.delenv("KAGGLE_API_TOKEN")
    config = tmp_path / "home" / ".kaggle"
    config.mkdir(parents=True)
    (config / "kaggle.json").write_text(json.dumps({"username": "me", "key": "another-secret"}))
    with pytest.raises(UserError, match=f"credentials from {config / 'kaggle.json'}") as err:
        acquire_images("celeba", kaggle_env)
    assert "another-secret" not in str(err.value)
    (config / "kaggle.json").write_text("{not json")
    with pytest.raises(UserError, match="Invalid Kaggle credentials file"):
        acquire_images("celeba", kaggle_env)


def test_unknown_datasets_and_an_unreachable_server(kaggle_env, kaggle_server):
    with pytest.raises(UserError, match="no such Kaggle dataset or version .*check the handle"):
        acquire_images("kaggle:someone/missing", kaggle_env)
    with pytest.raises(UserError, match="no such Kaggle dataset or version"):
        acquire_images("kaggle:someone/faces/versions/9", kaggle_env)
    kaggle_server.shutdown()
    kaggle_server.server_close()
    with pytest.raises(NetworkError, match="cannot reach Kaggle at http://localhost:7777; check the network"):
        acquire_images("celebrities-100k", kaggle_env)


def test_handles_are_checked_offline():
    assert parse_source("celebrities-100k").location == "greg115/celebrities-100k"
    assert parse_source("kaggle:a/b/versions/2").location == "a/b/versions/2"
    for bad in ("kaggle:", "kaggle:onlyowner", "kaggle:a/b/c", "kaggle:a/b/versions/x", "kaggle:a/b/versions/0"):
        with pytest.raises(ValueError, match="use kaggle:OWNER/SLUG or kaggle:OWNER/SLUG/versions/N"):
            parse_source(bad)


def _prefect_log_messages() -> list[str]:
    from prefect.client.orchestration import get_client

    messages, offset = [], 0
    with get_client(sync_client=True) as client:
        while page := client.read_logs(limit=200, offset=offset):
            messages += [log.message for log in page]
            offset += len(page)
    return messages


@pytest.mark.slow
def test_the_cli_trains_on_a_kaggle_preset_and_explains_missing_credentials(
    prefect_server, kaggle_env, kaggle_server, tmp_path, monkeypatch
):
    from test_cli import ganflow

    tiny = ["--size", "28", "--channels", "1", "--epochs", "1", "--batch-size", "2", "--latent-dim", "8"]
    env = {"PREFECT_API_URL": prefect_server}
    out = ganflow("run", "--source", "celeba", *tiny, "--data-dir", str(kaggle_env), env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    run_dir = out.stdout.split("outputs in ", 1)[1].splitlines()[0]
    summary = json.loads((tmp_path / run_dir / "summary.json").read_text())
    assert summary["dataset"]["source"] == f"kaggle:{CELEBA}/versions/3:img_align_celeba/img_align_celeba"
    assert summary["dataset"]["count"] == 3 and summary["steps"]["acquire"]["state"] == "Completed"
    manifest = json.loads(Path(summary["dataset"]["manifest"]).read_text())
    assert manifest["source"] == {"kind": "kaggle", "location": f"{CELEBA}/versions/3"}  # the version, recorded
    logs = _prefect_log_messages()
    assert any(f"pinned {CELEBA} to version 3" in message for message in logs)
    assert not any(KAGGLE_TOKEN in message for message in logs)  # credentials never reach the run's logs

    monkeypatch.delenv("KAGGLE_API_TOKEN")
    source = ["--source", "kaggle:someone/faces"]
    out = ganflow("run", *source, *tiny, "--data-dir", str(kaggle_env), env=env, cwd=tmp_path)
    assert out.returncode == 1 and "Traceback" not in out.stderr + out.stdout
    assert (
        out.stderr.strip()
        .splitlines()[-1]
        .startswith(
            "Error: --source kaggle:someone/faces: Kaggle refused the download (HTTP 401) and no Kaggle credentials"
        )
    )
