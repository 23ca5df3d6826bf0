"""NDB/JS (Richardson & Weiss 2018): a mode-collapse indicator from k-means bins of real images.

Real images are clustered into K bins (k-means on pixels). Real and generated images are assigned to
their nearest centre; a two-proportion z-test per bin counts the statistically different bins (NDB),
and the Jensen-Shannon divergence compares the two bin histograms. A collapsed generator piles into
few bins: many different bins and a large JS.
"""

import numpy as np
from scipy.cluster.vq import kmeans2, vq
from scipy.stats import norm

from ganmodels.metrics.registry import Metric, SweepColumn, num, register


def _flat(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), -1).astype(np.float64) / 255.0


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence in nats, 0 for equal histograms, at most ln 2."""
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(a, b):
        mask = a > 0
        return float(np.sum(a[mask] * np.log(a[mask] / b[mask])))

    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


def ndb_js(real: np.ndarray, fake: np.ndarray, bins: int = 20, alpha: float = 0.05, seed: int = 0) -> dict:
    """{'ndb': count of different bins, 'ndb_ratio': that / bins, 'js': divergence, 'bins': K}."""
    real_x, fake_x = _flat(real), _flat(fake)
    bins = max(2, min(bins, len(real_x) // 2))
    centres, real_labels = kmeans2(real_x, bins, minit="++", seed=seed)
    fake_labels, _ = vq(fake_x, centres)
    p_real = np.bincount(real_labels, minlength=bins) / len(real_x)
    p_fake = np.bincount(fake_labels, minlength=bins) / len(fake_x)
    pooled = (p_real * len(real_x) + p_fake * len(fake_x)) / (len(real_x) + len(fake_x))
    se = np.sqrt(pooled * (1 - pooled) * (1 / len(real_x) + 1 / len(fake_x)))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (p_real - p_fake) / se, 0.0)
    different = int(np.sum(2 * norm.sf(np.abs(z)) < alpha))
    return {
        "ndb": different,
        "ndb_ratio": different / bins,
        "js": js_divergence(p_real + 1e-12, p_fake + 1e-12),
        "bins": bins,
    }


def _bins(real: np.ndarray, most: int) -> int:
    return min(most, max(2, len(real) // 10))


def _epoch(real: np.ndarray, fake: np.ndarray, train: np.ndarray | None) -> dict[str, float]:
    found = ndb_js(real, fake, bins=_bins(real, 20))
    return {"ndb": found["ndb"], "js": round(found["js"], 5)}


def _sweep(e: dict | None, train: dict | None) -> dict:
    e = e or {}
    return {"ndb": e.get("ndb"), "ndb_bins": e.get("bins"), "js": e.get("js")}


register(
    Metric(
        "ndb",
        order=30,
        lower_is_better=True,
        columns=("ndb", "js"),
        scalars=("ndb", "js"),
        epoch=_epoch,
        per_set=lambda real, fake: ndb_js(real, fake, bins=_bins(real, 50)),
        lines=lambda e: [f"NDB: {e['ndb']}/{e['bins']} bins differ, JS {e['js']:.4f}"],
        brief=lambda e: f"NDB {e['ndb']}/{e['bins']}, JS {e['js']:.4f}",
        sweep=_sweep,
        sweep_columns=(
            SweepColumn(
                "NDB / JS",
                "---",
                lambda c: f"{c['ndb']}/{c['ndb_bins']} / {num(c['js'], 4)}" if c.get("ndb") is not None else "-",
            ),
        ),
        table_fields=("ndb", "js"),
    )
)
