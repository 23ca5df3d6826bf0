"""curves.png: losses and quality per epoch, redrawn from metrics.csv's rows as training goes."""

from pathlib import Path

from tasks.atomic import atomic_path


def write_curves(rows: list[dict], path: Path) -> Path:
    """Losses and quality per epoch as a PNG.

    Drawn through matplotlib's object API on its Agg canvas: no display needed, and no global backend
    change (`matplotlib.use`) that would switch a notebook user's plots.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    epochs = [int(r["epoch"]) for r in rows]
    fig = Figure(figsize=(7, 5))
    FigureCanvasAgg(fig)
    ax_loss, ax_q = fig.subplots(2, 1, sharex=True)
    for key in ("d_loss", "g_loss"):
        ax_loss.plot(epochs, [float(r[key]) for r in rows], label=key)
    ax_loss.set_ylabel("loss")
    ax_loss.legend(loc="upper right")
    scored = [r for r in rows if r.get("swd") not in (None, "")]
    if scored:
        ax_q.plot([int(r["epoch"]) for r in scored], [float(r["swd"]) for r in scored], color="tab:green")
    ax_q.set_ylabel("SWD x1e3 (lower is better)")
    coloured = [r for r in scored if r.get("colour") not in (None, "")]
    if coloured:  # the colour figure, on its own scale (0..255 units)
        ax_c = ax_q.twinx()
        ax_c.plot([int(r["epoch"]) for r in coloured], [float(r["colour"]) for r in coloured], color="tab:purple")
        ax_c.set_ylabel("colour figure (0..255)", color="tab:purple")
    ax_q.set_xlabel("epoch")
    fig.tight_layout()
    with atomic_path(Path(path)) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return Path(path)
