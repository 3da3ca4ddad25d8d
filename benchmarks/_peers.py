"""The synthesizers ``tabular.py`` compares, each fitted and sampled the same way.

Every entry of :data:`PEERS` takes the training rows and returns a
:class:`Synthesis`: ``len(train)`` synthetic rows with the training rows'
columns, the wall seconds of the fit alone and of the sample alone, and the
fitted model. Each runs at its package defaults, seeded with
:data:`_common.SEED` where it takes a seed:

* ``skvae`` - ``skvae.VAETransformer(random_state=0)``; takes every table as
  it is.
* ``TVAE`` - CTGAN's ``TVAE(epochs=300)`` (:func:`_common.fit_tvae`), told
  the discrete columns.
* ``CART`` - the sequential CART synthesizer of ``synthpop-py``
  (``synthpop.Synthesiser(random_seed=0)``, R synthpop's default method).
* ``ARF`` - adversarial random forests, ``arfpy.arf.arf`` then ``forde()``
  and ``forge(n)``; its forests get ``random_state=0`` and NumPy's global
  generator is seeded (arfpy draws from it); ``verbose=False`` only quiets it.
* ``GaussianCopula`` - SDV's ``GaussianCopulaSynthesizer`` on the metadata
  ``Metadata.detect_from_dataframes`` finds (SDV seeds its own sampling).

Conversions, made for a peer only where it cannot take the table as it is,
and undone on its samples (nothing else is changed for any peer):

* TVAE, CART and ARF get datetime columns as float days since 1970 (rounded
  back to whole days: the tables' dates are days). synthpop-py and CTGAN's
  TVAE fail on a datetime column; arfpy's forests take numbers.
* TVAE and ARF get a numeric column with missing values as the column with
  its mean where missing plus a ``<column>__missing`` yes/no column (what
  SDV's RDT does for TVAE inside SDV). CTGAN's TVAE fails on missing numbers
  at sampling; arfpy fails (msleep) or drops them (penguins).
* CART: synthpop-py returns numbers rounded to float32 (0.23 as
  0.2300000041), which a detector tells from the real 0.23 at once and which
  hides exact copies; float columns whose values are all float32 are read
  back as the shortest decimal of each float32 (0.23).
* ARF: arfpy 0.1.1 calls ``np.in1d``, which NumPy 2.4 removed; it is set to
  ``np.isin`` (NumPy's documented replacement) when missing. It finds
  categories by the dtype ``object``, so text read as pandas 3's ``str`` is
  passed as ``object``; under pandas 3 its ``forge`` still fails (it indexes
  a Series by position, ``KeyError: 0``), a row of its own in the results.
* GaussianCopula: SDV 2 fits and samples ``{name: table}``, SDV 1 the table.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from _common import SEED, fit_tvae, split_columns, timed
from _tables import dates_to_days, datetime_columns, days_to_dates

TVAE_EPOCHS = 300


@dataclass
class Synthesis:
    synthetic: pd.DataFrame
    fit_seconds: float
    sample_seconds: float
    model: object = None


def _finish(synthetic, train):
    """Samples as a DataFrame in the training columns' order, dates restored."""
    synthetic = pd.DataFrame(synthetic).reset_index(drop=True)
    return days_to_dates(synthetic, train)[list(train.columns)]


def run_skvae(train):
    from skvae import VAETransformer

    model, fit_s = timed(VAETransformer(random_state=SEED).fit, train)
    synthetic, sample_s = timed(model.sample, len(train), random_state=SEED)
    return Synthesis(_finish(synthetic, train), fit_s, sample_s, model)


def fill_missing_numbers(df):
    """Numeric columns with missing values as the value, the mean where missing,
    and a ``<column>__missing`` text column saying which (RDT's way)."""
    numeric = split_columns(df)[0]
    out = df.copy()
    for c in [c for c in numeric if df[c].isna().any()]:
        out[c] = df[c].fillna(df[c].mean())
        out[f"{c}__missing"] = np.where(df[c].isna(), "yes", "no")
    return out


def restore_missing_numbers(df):
    """Undo :func:`fill_missing_numbers`."""
    out = df.copy()
    for flag in [c for c in df.columns if c.endswith("__missing")]:
        column = flag.removesuffix("__missing")
        out[column] = out[column].where(out[flag].astype(str) != "yes")
        out = out.drop(columns=flag)
    return out


def run_tvae(train, epochs=TVAE_EPOCHS):
    data = fill_missing_numbers(dates_to_days(train, datetime_columns(train)))
    model, fit_s = fit_tvae(data, epochs)
    synthetic, sample_s = timed(model.sample, len(train))
    synthetic = restore_missing_numbers(synthetic)
    return Synthesis(_finish(synthetic, train), fit_s, sample_s, model)


def shortest_float32(df):
    """Float columns whose every value is a float32 as the shortest decimal
    that float32 reads back (synthpop-py's 0.23 comes out as 0.2300000041)."""
    out = df.copy()
    for c in df.columns:
        values = df[c].to_numpy()
        if values.dtype.kind == "f":
            single = values.astype(np.float32)
            if np.array_equal(single.astype(values.dtype), values, equal_nan=True):
                out[c] = single.astype(str).astype(values.dtype)
    return out


def run_cart(train):
    from synthpop import Synthesiser

    data = dates_to_days(train, datetime_columns(train))
    model, fit_s = timed(Synthesiser(random_seed=SEED).fit, data)
    synthetic, sample_s = timed(model.generate, len(train))
    synthetic = shortest_float32(synthetic)
    return Synthesis(_finish(synthetic, train), fit_s, sample_s, model)


def run_arf(train):
    from arfpy import arf

    if not hasattr(np, "in1d"):  # arfpy 0.1.1 calls np.in1d, gone in NumPy 2.4
        setattr(np, "in1d", np.isin)  # noqa: B010
    data = fill_missing_numbers(dates_to_days(train, datetime_columns(train)))
    # arfpy finds categories by dtype "object"; pandas 3 reads text as "str"
    text = [c for c in data if pd.api.types.is_string_dtype(data[c].dtype)]
    data = data.astype(dict.fromkeys(text, object))
    np.random.seed(SEED)  # noqa: NPY002 (arfpy draws from NumPy's global state)

    def fit():
        model = arf.arf(data, verbose=False, random_state=SEED)
        model.forde()
        return model

    model, fit_s = timed(fit)
    synthetic, sample_s = timed(model.forge, len(train))
    synthetic = restore_missing_numbers(synthetic)
    return Synthesis(_finish(synthetic, train), fit_s, sample_s, model)


def run_gaussian_copula(train):
    import sdv
    from sdv.metadata import Metadata
    from sdv.single_table import GaussianCopulaSynthesizer

    sdv_2 = int(sdv.__version__.split(".")[0]) >= 2

    def fit():
        metadata = Metadata.detect_from_dataframes({"table": train})
        model = GaussianCopulaSynthesizer(metadata)
        model.fit({"table": train} if sdv_2 else train)  # SDV 2: {name: table}
        return model

    model, fit_s = timed(fit)
    synthetic, sample_s = timed(model.sample, len(train))
    if isinstance(synthetic, dict):
        (synthetic,) = synthetic.values()
    return Synthesis(_finish(synthetic, train), fit_s, sample_s, model)


PEERS = {
    "skvae": run_skvae,
    "TVAE": run_tvae,
    "CART": run_cart,
    "ARF": run_arf,
    "GaussianCopula": run_gaussian_copula,
}
