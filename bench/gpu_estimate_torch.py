"""A GPU estimate for ganflow's train step, where TensorFlow's GPU build is not at hand: the same step in PyTorch.

The 32 px `dcgan` pair of ganmodels/dcgan.py (G: Dense to 4x4x256, BatchNorm, LeakyReLU, three 5x5
stride-2 transposed convolutions to 32x32x3, tanh; D: three 5x5 stride-2 convolutions with LeakyReLU
and Dropout 0.3, one logit) and the same step (one G forward; D's update on real and fake; G's update
through D; Adam 2e-4/0.5; an EMA of G's weights), timed for 300 steps after 30 of warm-up, eager and
with `torch.compile`, in fp32 and bf16 autocast. It needs PyTorch and a CUDA GPU; it is not part of
ganflow (which does not depend on PyTorch), only the source of the GPU estimate in docs/performance.md.

    python bench/gpu_estimate_torch.py
"""

import json
import time

import torch
from torch import nn


def generator() -> nn.Sequential:
    act = nn.LeakyReLU(0.2)
    return nn.Sequential(
        nn.Linear(100, 4 * 4 * 256, bias=False),
        nn.BatchNorm1d(4 * 4 * 256),
        act,
        nn.Unflatten(1, (256, 4, 4)),
        nn.ConvTranspose2d(256, 128, 5, 2, 2, 1, bias=False),
        nn.BatchNorm2d(128),
        act,
        nn.ConvTranspose2d(128, 64, 5, 2, 2, 1, bias=False),
        nn.BatchNorm2d(64),
        act,
        nn.ConvTranspose2d(64, 3, 5, 2, 2, 1),
        nn.Tanh(),
    )


def discriminator() -> nn.Sequential:
    act = nn.LeakyReLU(0.2)
    return nn.Sequential(
        nn.Conv2d(3, 64, 5, 2, 2), act, nn.Dropout(0.3),
        nn.Conv2d(64, 128, 5, 2, 2), act, nn.Dropout(0.3),
        nn.Conv2d(128, 256, 5, 2, 2), act, nn.Dropout(0.3),
        nn.Flatten(), nn.Linear(4 * 4 * 256, 1),
    )  # fmt: skip


def images_per_second(batch: int, precision: str, compiled: bool, steps: int = 300, warmup: int = 30) -> float:
    dev = "cuda"
    g, d, ema = generator().to(dev), discriminator().to(dev), generator().to(dev)
    ema.load_state_dict(g.state_dict())
    g_run, d_run = (torch.compile(g), torch.compile(d)) if compiled else (g, d)
    g_opt = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    real_uint8 = torch.randint(0, 256, (batch, 3, 32, 32), dtype=torch.uint8, device=dev)
    ones, zeros = torch.ones(batch, 1, device=dev), torch.zeros(batch, 1, device=dev)
    ema_params, g_params = list(ema.parameters()), list(g.parameters())

    def autocast():
        return torch.autocast("cuda", torch.bfloat16, enabled=precision == "bf16")

    def step() -> None:
        with autocast():
            fake = g_run(torch.randn(batch, 100, device=dev))
            real = real_uint8.float() / 127.5 - 1
            d_loss = bce(d_run(real), ones) + bce(d_run(fake.detach()), zeros)
        d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        d_opt.step()
        with autocast():
            g_loss = bce(d_run(fake), ones)
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        g_opt.step()
        with torch.no_grad():
            torch._foreach_lerp_(ema_params, g_params, 0.001)

    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    return batch * steps / (time.perf_counter() - start)


def main() -> None:
    torch.backends.cudnn.benchmark = True
    for name in ("cache_size_limit", "recompile_limit"):  # one compile per network and batch size
        if hasattr(torch._dynamo.config, name):
            setattr(torch._dynamo.config, name, 64)
    print(torch.cuda.get_device_name(), torch.__version__)
    for compiled in (False, True):
        for batch in (16, 64, 256):
            for precision in ("fp32", "bf16"):
                rate = images_per_second(batch, precision, compiled)
                print(
                    json.dumps({"batch": batch, "precision": precision, "compiled": compiled, "img_per_s": round(rate)})
                )


if __name__ == "__main__":
    main()
