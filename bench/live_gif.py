"""What keeping progress.gif current while training costs: the live GIF's own time against training's wall time.

Trains the built-in sample (100 faces, 32 px colour, the default recipe, quality scores every epoch) with
`train_gan`, as `ganflow run` does, in a fresh run folder, and times every render of the live GIF
(`tasks/train/callbacks.LiveGif`: the GIF and, in a Prefect run, its UI preview). Also times one render of
a GIF with `--frames` frames from the run's own grids (repeated), the cost a long run's renders approach.

The last line is one JSON object: epochs, train_seconds, live_seconds, renders, share (of train_seconds),
render_seconds_at (frames -> seconds) and the CPU model.

    python bench/live_gif.py [--epochs 60] [--frames 300]
"""

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.figures import cpu_model  # noqa: E402
from tasks.acquire.task import acquire_images  # noqa: E402
from tasks.preprocess.task import preprocess_images  # noqa: E402
from tasks.progress_gif import render_gif, sample_frames, sample_path  # noqa: E402
from tasks.train import callbacks as cb  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--frames", type=int, default=300)
    args = parser.parse_args()

    from flows.params import RunParams
    from tasks.train.task import train_gan

    work = Path(tempfile.mkdtemp(prefix="live-gif-"))
    try:
        params = RunParams(source="sample", epochs=args.epochs, run_dir=work / "run", data_dir=work / "data")
        acquired = acquire_images("sample", params.data_dir)
        data = preprocess_images(acquired, params.size, params.channels, params.crop, params.data_dir)
        seen: list[cb.LiveGif] = []

        class Timed(cb.LiveGif):
            def __init__(self, *a, **k):
                super().__init__(*a, **k)
                seen.append(self)

        cb.LiveGif = Timed  # the one train_gan builds: its own counters
        started = time.perf_counter()
        train_gan(data, params.gan_config(), params.train_options(), params.run_dir)
        train_seconds = time.perf_counter() - started
        (live,) = seen

        share = 100 * live.spent / train_seconds
        print(f"live GIF: {live.renders} renders, {live.spent:.2f} s of {train_seconds:.1f} s training ({share:.2f}%)")
        grids = [p for _, p in sample_frames(params.run_dir / "samples")]
        many = work / "many"
        many.mkdir()
        for i in range(args.frames):
            shutil.copyfile(grids[i % len(grids)], sample_path(many, i + 1))
        t = time.perf_counter()
        render_gif(many, work / "many.gif")
        at = {args.frames: round(time.perf_counter() - t, 3)}
        result = {
            "epochs": args.epochs,
            "train_seconds": round(train_seconds, 1),
            "live_seconds": round(live.spent, 2),
            "renders": live.renders,
            "share": round(live.spent / train_seconds, 4),
            "render_seconds_at": at,
            "cpu": cpu_model(),
        }
        print(f"one render of {args.frames} frames: {at[args.frames]} s")
        print(json.dumps(result))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
