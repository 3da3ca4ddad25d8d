"""Helpers shared by the benchmark scripts; not a benchmark itself.

Data (Adult, its column types), thread limits, the models both sides of a
comparison are built the same way with (TVAE), timing, peak resident memory
of a call, the one-line machine description, tables, and PASS/FAIL verdicts
that set the exit status.
"""

import math
import os
import platform
import sys
import time
import warnings
from numbers import Integral, Real
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
ADULT = REPO_ROOT.parent / "shared" / "data" / "adult.csv"
SEED = 0
# skvae with package defaults fits at least this many times faster than TVAE
# with its defaults (300 epochs); tabular.py's must-show check, speed.py's target
FIT_SPEEDUP_TARGET = 10.0


# ------------------------------------------------------------ set-up and data


def add_common_args(parser, data=True):
    """``--threads`` (default 1) and, with ``data``, ``--data`` (adult.csv)."""
    parser.add_argument(
        "--threads", type=int, default=1, help="torch and BLAS threads (default 1)"
    )
    if data:
        parser.add_argument(
            "--data",
            type=Path,
            default=ADULT,
            help="path to adult.csv (default ../shared/data/adult.csv beside "
            "the repository)",
        )


def add_epoch_args(parser, meaning, full=300, quick=30):
    """``--epochs E`` (default ``full``) and ``--quick``, short for E = ``quick``."""
    parser.add_argument(
        "--epochs", type=int, default=full, help=f"E, {meaning} (default {full})"
    )
    parser.add_argument(
        "--quick",
        dest="epochs",
        action="store_const",
        const=quick,
        help=f"a quick run: E = {quick}",
    )


def set_up(threads):
    """Limit torch and the BLAS/OpenMP pools to ``threads``; quiet fixed-epoch fits.

    The limit holds for the rest of the process.
    """
    import torch
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    # the benchmarks run fixed numbers of epochs on purpose
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    torch.set_num_threads(threads)
    _LIMITERS.append(threadpool_limits(limits=threads))
    # torch imports its optimizer machinery (~0.7 s) on the first Adam; pay it
    # here so that no timed fit is charged for running first
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])


_LIMITERS = []  # keeps the thread-pool limits of set_up alive


def load_adult(path=ADULT):
    """UCI Adult as a DataFrame; exits with a one-line message if it is absent."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        sys.exit(
            f"error: Adult data not found at {path} (expected "
            "shared/data/adult.csv beside the repository; pass --data PATH)"
        )
    return pd.read_csv(path)


def split_columns(df):
    """Numeric (non-boolean) columns and the rest, which count as categorical."""
    import pandas as pd

    numeric = [
        c
        for c in df.columns
        if pd.api.types.is_numeric_dtype(df[c])
        and not pd.api.types.is_bool_dtype(df[c])
        and not isinstance(df[c].dtype, pd.CategoricalDtype)
    ]
    categorical = [c for c in df.columns if c not in numeric]
    return numeric, categorical


# ------------------------------------------------------------------- models


def timed(fn, *args, **kwargs):
    """``(fn(*args, **kwargs), wall seconds it took)``."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def fit_tvae(data, epochs, **params):
    """CTGAN's TVAE with its defaults (and ``params``), told which columns are
    discrete, seeded with :data:`SEED` and fitted; returns ``(model, seconds)``
    where ``seconds`` is the wall time of ``fit`` alone."""
    from ctgan import TVAE

    _, discrete = split_columns(data)
    model = TVAE(epochs=epochs, **params)
    model.set_random_state(SEED)
    _, seconds = timed(model.fit, data, discrete_columns=discrete)
    return model, seconds


# ------------------------------------------------------------------- memory


def proc_status_kb(field):
    """A ``kB`` field of ``/proc/self/status`` (Linux), e.g. VmRSS or VmHWM."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _release_free_memory():
    """Collect garbage and hand the C allocator's free pages back to the system
    (glibc ``malloc_trim``), so that the resident set is the live memory."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def rss_bytes():
    """The resident set size now (after releasing free memory), in bytes."""
    _release_free_memory()
    return proc_status_kb("VmRSS") * 1024


def reset_peak_rss():
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS (Linux)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return proc_status_kb("VmHWM") <= proc_status_kb("VmRSS") + 1024


def peak_rise(fn, *args, **kwargs):
    """Run ``fn`` and return ``(result, seconds, peak rise, method)``.

    The peak rise is the highest resident set size (RSS) while ``fn`` ran
    minus the RSS just before it (free memory released first), in bytes: the
    kernel's peak mark VmHWM, reset before the call through
    ``/proc/self/clear_refs``. Where it cannot be reset, ``ru_maxrss`` (the
    process's lifetime peak, an upper bound) is used and ``method`` says so.
    """
    import resource

    before = rss_bytes()
    reset = reset_peak_rss()
    result, seconds = timed(fn, *args, **kwargs)
    if reset:
        peak, method = proc_status_kb("VmHWM") * 1024, "VmHWM reset before the call"
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        method = "ru_maxrss (lifetime peak: an upper bound)"
    return result, seconds, peak - before, method


def run_child(script, flags, threads, tag, env=None, what=None):
    """Run ``script`` with ``flags`` in a fresh interpreter whose BLAS and
    OpenMP pools hold ``threads`` threads (and with the variables ``env``);
    print its output and return the JSON result it printed after ``tag``.
    Exits with a one-line error naming ``what`` (default: the flags) if the
    child fails."""
    import json
    import subprocess

    environment = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        environment[var] = str(threads)
    environment.update(env or {})
    cmd = [sys.executable, str(Path(script).resolve()), *flags]
    proc = subprocess.run(
        cmd, env=environment, stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT
    )
    result = None
    for line in proc.stdout.splitlines():
        if line.startswith(tag):
            result = json.loads(line[len(tag) :])
        else:
            print(line)
    if proc.returncode != 0 or result is None:
        what = what or " ".join(flags)
        sys.exit(f"error: {what} failed (status {proc.returncode})")
    return result


# ------------------------------------------------------------------ reports


def describe_machine(threads):
    """Print versions, the machine, the thread count and the load average."""
    from importlib.metadata import PackageNotFoundError, version

    def ver(name):
        try:
            return version(name)
        except PackageNotFoundError:
            return "(not installed)"

    print(
        ", ".join(f"{n} {ver(n)}" for n in ("skvae", "torch", "ctgan"))
        + f", Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs; {threads} thread(s) per fit"
    )
    print(f"load average at start: {load_average()}")


def load_average():
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min)"


def fmt(value, spec=".4f"):
    """A table cell: numbers formatted with ``spec``, integers in full, None and
    NaN as n/a, anything else (strings, booleans, tuples) as ``str`` makes it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, Real):
        return str(value)
    if isinstance(value, Integral):
        return str(value)
    return format(value, spec)


def ratio(a, b):
    """``a / b``, or None where either is missing or ``b`` is zero."""
    if a is None or b is None or b == 0:
        return None
    return a / b


def table(header, rows, spec=".4f"):
    """Print ``rows`` under ``header``, the first column left-aligned.

    ``spec`` formats the numbers: one format spec for every column after the
    first, or a list with one per column after the first (see :func:`fmt`).
    """
    specs = [spec] * (len(header) - 1) if isinstance(spec, str) else list(spec)
    cells = [
        [str(row[0])] + [fmt(v, s) for v, s in zip(row[1:], specs, strict=True)]
        for row in rows
    ]
    widths = [
        max([len(h), 10 if i else 0] + [len(c[i]) for c in cells])
        for i, h in enumerate(header)
    ]
    for line in [list(header), *cells]:
        first, *rest = line
        print(
            "  "
            + first.ljust(widths[0])
            + "".join("  " + c.rjust(w) for c, w in zip(rest, widths[1:], strict=True))
        )


class Verdicts:
    """Collects named PASS/FAIL checks and prints them as they come.

    A check whose outcome is None (it could not be made, e.g. the model it
    compares with was skipped) prints as n/a and does not fail.
    """

    def __init__(self):
        self.failed = []
        self.start = time.perf_counter()

    def check(self, name, ok):
        label = "n/a " if ok is None else ("PASS" if ok else "FAIL")
        print(f"  [{label}] {name}")
        if ok is not None and not ok:
            self.failed.append(name)

    def finish(self):
        """Print the total time and the failures; return the exit status."""
        print(f"\nTotal: {time.perf_counter() - self.start:.0f} s, ", end="")
        if self.failed:
            print(f"{len(self.failed)} FAIL:")
            for name in self.failed:
                print(f"  - {name}")
            return 1
        print("all checks PASS")
        return 0
