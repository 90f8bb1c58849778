"""How long one training step of chapter 06's SimpleConvNet takes: the clear learner-level version,
the fast NumPy reference (benchmarks/fast_cnn.py) and PyTorch on the CPU.

    python benchmarks/cnn_train_step.py                 # 30 timed steps of each, batch 100
    python benchmarks/cnn_train_step.py --repeats 100   # steadier figures

A step is forward + backward + a plain SGD update on one batch of MNIST images (N, 1, 28, 28):
conv 30×5×5 → ReLU → 2×2 max-pool → Affine 4320→100 → ReLU → Affine 100→10 → softmax loss.
The clear version is chapter 06's solution (its exported cells, float64), loaded from the built
course; the fast one runs in float32; PyTorch (optional: ``pip install torch==2.13.0`` in .venv)
gets as many threads as the BLAS. After a warm-up the implementations take turns, in blocks of ten
steps, so that a change in the machine's load hits them alike; the medians and quartiles follow, with the
BLAS library and kernel that ran (figures are comparable only for the same library, kernel and
thread count). The last line is ``ratio fast/pytorch: X.XX`` (below 1: the fast reference wins),
or ``ratio fast/pytorch: n/a (torch not installed)``.
"""

import argparse
import os
import sys
import time
import types
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.fast_cnn import FastSimpleConvNet  # noqa: E402
from dlfs import build  # noqa: E402

CHAPTER = "06_cnn"
LR = 0.01


def load_exports(root, chapter):
    """A chapter's exported solution code (its ``export=true`` cells) as a module, or None when the course
    at ``root`` has no such chapter.

    Builds the course's sources first (``dlfs.build.write_sources``), so that ``provided/``, the
    earlier chapters' building blocks the exports import, is current.
    """
    root = Path(root)
    source = root / "solutions" / chapter / (chapter + build.SOURCE_SUFFIX)
    if not source.exists():
        return None
    build.write_sources(root)
    module = types.ModuleType(f"exports_{chapter}")
    module.__file__ = str(source)
    # The exports import `provided.*` from their chapter directory: make sure that is the one found,
    # and leave sys.path and sys.modules as they were.
    saved = {name: sys.modules.pop(name) for name in list(sys.modules)
             if name == "provided" or name.startswith("provided.")}
    sys.path.insert(0, str(source.parent))
    try:
        # (not named after the .pct.py file: the line numbers are those of the joined cells)
        code = compile("\n\n\n".join(build.exported_code(source)), f"<exported cells of {source}>", "exec")
        exec(code, module.__dict__)
    finally:
        sys.path.remove(str(source.parent))
        for name in [n for n in sys.modules if n == "provided" or n.startswith("provided.")]:
            del sys.modules[name]
        sys.modules.update(saved)
    return module


def load_clear_cnn(root=ROOT):
    """Chapter 06's solution code (``SimpleConvNet`` and its layers) as a module, or None before chapter 06 exists."""
    return load_exports(root, CHAPTER)


def blas():
    """The BLAS libraries numpy loaded, as threadpoolctl reports them."""
    return [info for info in threadpool_info() if info.get("user_api") == "blas"]


def blas_description():
    libraries = [f"{i.get('internal_api')} {i.get('version')} (kernel {i.get('architecture')}, "
                 f"{i.get('num_threads')} threads)" for i in blas()]
    return ", ".join(libraries) or "unknown"


def mnist_batch(batch_size):
    from dlfs.data import load_mnist

    (x, t), _ = load_mnist(flatten=False, n_train=batch_size, n_test=1, dtype=np.float64)
    return x, t


def clear_step(module, x, t):
    net = module.SimpleConvNet(input_dim=(1, 28, 28), filter_num=30, filter_size=5, hidden_size=100,
                               output_size=10, seed=0)

    def step():
        grads = net.gradient(x, t)
        for key, value in net.params.items():
            value -= LR * grads[key]

    return step


def fast_step(x, t):
    net = FastSimpleConvNet(seed=0)
    x32 = x.astype(np.float32)
    return lambda: net.train_step(x32, t, LR)


def torch_step(x, t, threads):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(30 * 12 * 12, 100), nn.ReLU(), nn.Linear(100, 10))
    optimizer = torch.optim.SGD(net.parameters(), lr=LR)
    xt, tt = torch.from_numpy(x.astype(np.float32)), torch.from_numpy(t)

    def step():
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(net(xt), tt)
        loss.backward()
        optimizer.step()

    return step


def time_steps(steps, repeats, warmup, block=10):
    """{name: array of seconds per step}, ``repeats`` timed steps of each implementation.

    The implementations take turns in blocks of ``block`` steps, so that a change in the machine's load
    hits them alike. Not step by step: NumPy's BLAS and PyTorch each keep their own worker threads,
    which spin for a while after their work, so a step that follows the other library's step competes
    with those threads for the cores. The first step of every block (the switch) is not timed.
    """
    for step in steps.values():
        for _ in range(warmup):
            step()
    times = {name: [] for name in steps}
    while any(len(seconds) < repeats for seconds in times.values()):
        for name, step in steps.items():
            step()
            for _ in range(min(block, repeats - len(times[name]))):
                began = time.perf_counter()
                step()
                times[name].append(time.perf_counter() - began)
    return {name: np.array(seconds) for name, seconds in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed steps of each implementation")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--root", type=Path, default=ROOT, help="the course whose chapter 06 is timed")
    args = parser.parse_args(argv)

    threads = max([info.get("num_threads", 1) for info in blas()] or [1])
    print(f"numpy {np.__version__}, BLAS: {blas_description()}")
    print("environment: " + (", ".join(f"{k}={v}" for k, v in sorted(os.environ.items())
                                       if k.startswith(("OPENBLAS_", "OMP_", "MKL_"))) or "no OPENBLAS_/OMP_/MKL_ variables"))
    load = os.getloadavg()[0]
    print(f"load average (1 min) at the start: {load:.2f} (the figures assume an otherwise idle machine)")
    x, t = mnist_batch(args.batch_size)
    steps = {}
    module = load_clear_cnn(args.root)
    if module is None:
        print(f"clear: skipped (no solutions/{CHAPTER}/{CHAPTER}{build.SOURCE_SUFFIX} yet)")
    else:
        steps["clear (float64)"] = clear_step(module, x, t)
    steps["fast (float32)"] = fast_step(x, t)
    try:
        import torch
    except ImportError:
        torch = None
        print("pytorch: skipped (not installed; pip install torch==2.13.0 inside .venv for the CPU build)")
    else:
        steps["pytorch (float32)"] = torch_step(x, t, threads)
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
              f"oneDNN {'on' if torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled else 'off'}")

    print(f"train step, batch {args.batch_size}, {args.repeats} steps each after {args.warmup} warm-up steps:")
    times = time_steps(steps, args.repeats, args.warmup)
    medians = {name: np.median(seconds) for name, seconds in times.items()}
    for name, seconds in times.items():
        q1, q3 = np.percentile(seconds, [25, 75])
        relative = f"   {medians[name] / medians['pytorch (float32)']:5.2f} × pytorch" if torch else ""
        print(f"  {name:<18} median {medians[name] * 1e3:8.2f} ms   quartiles {q1 * 1e3:8.2f} – {q3 * 1e3:8.2f} ms{relative}")
    if torch:
        print(f"ratio fast/pytorch: {medians['fast (float32)'] / medians['pytorch (float32)']:.2f}")
    else:
        print("ratio fast/pytorch: n/a (torch not installed)")


if __name__ == "__main__":
    main()
