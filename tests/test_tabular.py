"""Mixed-type DataFrames: schema round trips and column likelihoods."""

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats
from scipy.integrate import trapezoid

from skvae import VAETransformer
from skvae._likelihoods import _IntervalGaussian
from skvae._quantile_column import QuantileColumn
from skvae._table_codec import TableCodec

from .conftest import FAST_TABLE


@pytest.fixture
def mixed_df():
    rng = np.random.default_rng(0)
    n = 300
    return pd.DataFrame(
        {
            "amount": rng.lognormal(3, 1, n),
            "count": rng.integers(18, 70, n),
            "gain": np.where(rng.random(n) < 0.8, 0, rng.integers(1, 5000, n)),
            "flag": rng.random(n) < 0.3,
            "grade": pd.Categorical(
                rng.choice(["b", "a", "c"], n), categories=["c", "b", "a", "never"]
            ),
            "city": rng.choice(["Oslo", "Lima", "Pune"], n).astype(object),
            "note": pd.array(rng.choice(["x", "y", None], n), dtype="string"),
        }
    )


def test_sample_keeps_the_schema(mixed_df):
    vae = VAETransformer(**FAST_TABLE).fit(mixed_df)
    synthetic = vae.sample(500, random_state=0)
    assert list(synthetic.columns) == list(mixed_df.columns)
    assert (synthetic.dtypes == mixed_df.dtypes).all()
    assert synthetic["grade"].cat.categories.tolist() == ["c", "b", "a", "never"]
    assert "never" not in set(synthetic["grade"])  # never seen in training
    assert set(synthetic["city"]) <= {"Oslo", "Lima", "Pune"}
    for name in ("amount", "count", "gain"):
        assert synthetic[name].min() >= mixed_df[name].min()
        assert synthetic[name].max() <= mixed_df[name].max()
    # the zero-inflated column keeps its atom; missing strings are reproduced
    assert 0.6 < (synthetic["gain"] == 0).mean() < 0.95
    assert synthetic["note"].isna().any()


def test_inverse_transform_round_trip_keeps_dtypes(mixed_df):
    vae = VAETransformer(**FAST_TABLE).fit(mixed_df)
    codes = vae.transform(mixed_df)
    assert codes.shape == (300, 8) and codes.dtype == np.float64
    back = vae.inverse_transform(codes)
    assert (back.dtypes == mixed_df.dtypes).all()
    assert back.shape == mixed_df.shape


def test_scores_are_finite_and_deterministic(mixed_df):
    vae = VAETransformer(**FAST_TABLE).fit(mixed_df)
    rows = vae.score_samples(mixed_df)
    assert rows.shape == (300,) and np.isfinite(rows).all()
    np.testing.assert_allclose(
        rows[:10], vae.score_samples(mixed_df.head(10)), rtol=1e-6
    )


def test_unknown_categories(mixed_df):
    vae = VAETransformer(**FAST_TABLE).fit(mixed_df)
    odd = mixed_df.head(3).copy()
    odd["city"] = ["Oslo", "Rome", "Lima"]
    with pytest.raises(
        ValueError, match="unknown categories \\['Rome'\\] in column 'city'"
    ):
        vae.transform(odd)
    ignoring = VAETransformer(**FAST_TABLE, handle_unknown="ignore").fit(mixed_df)
    assert np.isfinite(ignoring.score_samples(odd)).all()
    # an unknown category drops out of the likelihood (a log-probability <= 0
    # less), so the row scores higher; measured -18.17 against -19.51
    known = mixed_df.head(3)
    assert ignoring.score_samples(odd)[1] > ignoring.score_samples(known)[1]


def test_infinite_numbers_are_rejected_by_name(mixed_df):
    bad = mixed_df.copy()
    bad.loc[3, "amount"] = np.inf
    with pytest.raises(ValueError, match="Column 'amount' contains infinity"):
        VAETransformer(**FAST_TABLE).fit(bad)


def test_explicit_categorical_features(mixed_df):
    vae = VAETransformer(**FAST_TABLE, categorical_features=["count"]).fit(mixed_df)
    kinds = {b.name: b.column.kind for b in vae._codec.blocks if not b.companion}
    assert kinds["count"] == "categorical" and kinds["gain"] == "interval_gaussian"
    assert vae.sample(50, random_state=0)["count"].dtype == np.int64
    with pytest.raises(ValueError, match="not a column of X"):
        VAETransformer(**FAST_TABLE, categorical_features=["nope"]).fit(mixed_df)


def test_set_output_pandas_and_reordered_columns(mixed_df):
    vae = VAETransformer(**FAST_TABLE).set_output(transform="pandas").fit(mixed_df)
    out = vae.transform(mixed_df)
    assert list(out.columns) == [f"vaetransformer{i}" for i in range(8)]
    with pytest.raises(ValueError, match="feature names"):
        vae.transform(mixed_df[mixed_df.columns[::-1]])


def test_the_user_frame_is_not_modified(mixed_df):
    before = mixed_df.copy()
    VAETransformer(**FAST_TABLE).fit(mixed_df).score(mixed_df)
    pd.testing.assert_frame_equal(mixed_df, before)


# --- the numeric column model ------------------------------------------------


def _column(values):
    return QuantileColumn().fit(pd.Series(values, dtype=float))


def test_quantile_map_jacobian_matches_finite_differences():
    rng = np.random.default_rng(1)
    column = _column(rng.gamma(2.0, 3.0, 5000))
    x = np.quantile(rng.gamma(2.0, 3.0, 100), [0.1, 0.5, 0.9]) + 1e-4
    encoded, logjac = column.encode(pd.Series(x))
    assert np.all(encoded[:, 0] == encoded[:, 1])  # points, not intervals
    h = 1e-6
    up, _ = column.encode(pd.Series(x + h))
    down, _ = column.encode(pd.Series(x - h))
    derivative = (up[:, 0] - down[:, 0]) / (2 * h)
    # log p(x) = log p(z(x)) + log z'(x): the codec returns log z'(x)
    np.testing.assert_allclose(logjac, np.log(derivative), rtol=1e-4)


def test_atom_masses_and_density_add_up_to_one():
    rng = np.random.default_rng(2)
    values = np.where(rng.random(4000) < 0.6, 0.0, rng.normal(50, 10, 4000))
    column = _column(values)
    zero, _ = column.encode(pd.Series(np.array([0.0])))
    mass = stats.norm.cdf(zero[0, 1]) - stats.norm.cdf(zero[0, 0])
    # the data's share, less the Cauchy tail's weight 1 / (n + 1)
    share = (values == 0).mean() * (1 - 1 / (values.size + 1))
    assert mass == pytest.approx(share, abs=1e-9)
    # the continuous part integrates to the remaining mass under N(0, 1)
    grid = np.linspace(values[values > 0].min(), values.max(), 200001)[1:-1]
    encoded, logjac = column.encode(pd.Series(grid))
    density = np.exp(stats.norm.logpdf(encoded[:, 0]) + logjac)
    integral = trapezoid(density, grid)
    assert mass + integral == pytest.approx(1.0, abs=2e-3)


def test_interval_gaussian_against_scipy():
    head = _IntervalGaussian(2, "per_feature", 0.01).double()
    loc = torch.tensor([[0.3, -1.0]], dtype=torch.float64)
    scale = head.loc_scale(loc)[1].detach().numpy().reshape(-1)
    # column 0 is an interval, column 1 a point
    x = torch.tensor([[-0.5, 1.2, 0.7, 0.7]], dtype=torch.float64)
    got = head.log_prob(loc, x).item()
    interval = np.log(
        stats.norm.cdf(1.2, 0.3, scale[0]) - stats.norm.cdf(-0.5, 0.3, scale[0])
    )
    point = stats.norm.logpdf(0.7, -1.0, scale[1])
    assert got == pytest.approx(interval + point, rel=1e-10)
    # far tails stay finite and accurate
    far = torch.tensor([[7.0, 8.0, 0.0, 0.0]], dtype=torch.float64)
    tail = stats.norm.logsf(7.0, 0.3, scale[0]) + np.log(
        -np.expm1(
            stats.norm.logsf(8.0, 0.3, scale[0]) - stats.norm.logsf(7.0, 0.3, scale[0])
        )
    )
    expected = tail + stats.norm.logpdf(0.0, -1.0, scale[1])
    assert head.log_prob(loc, far).item() == pytest.approx(expected, rel=1e-8)


def test_encoding_in_chunks_of_rows_equals_one_pass(mixed_df, monkeypatch):
    holes = mixed_df.copy()
    holes.loc[::7, "amount"] = np.nan
    holes.loc[::5, "city"] = None
    codec = TableCodec().fit(holes)
    whole = [codec.encode(holes, np.float64, free=free) for free in (False, True)]
    monkeypatch.setattr("skvae._table_codec._ENCODE_ROWS", 7)
    for free, reference in zip((False, True), whole, strict=True):
        chunked = codec.encode(holes, np.float64, free=free)
        np.testing.assert_array_equal(chunked.values, reference.values)
        np.testing.assert_array_equal(chunked.log_jacobian, reference.log_jacobian)


def test_samples_reuse_the_decodings_of_snapped_numbers_unchanged(
    mixed_df, monkeypatch
):
    """sample and inverse_transform decode the numbers the draws snapped
    from their snapped decodings: the rows equal those of a decoding from
    the encoded values alone."""
    holes = mixed_df.copy()
    holes["reading"] = holes["amount"] * 7.3  # off any grid, in the order
    holes.loc[::9, "amount"] = np.nan  # a number drawn outside the order
    vae = VAETransformer(**FAST_TABLE).fit(holes)
    Z = vae.transform(holes)
    reused = vae.sample(400, random_state=1), vae.inverse_transform(Z)
    decode = TableCodec.decode
    seen = []

    def from_encoding(self, encoded, rng=None, identifiers=True, decoded=None):
        seen.append(sorted(decoded or {}))
        return decode(self, encoded, rng, identifiers)

    monkeypatch.setattr(TableCodec, "decode", from_encoding)
    alone = vae.sample(400, random_state=1), vae.inverse_transform(Z)
    assert seen[0]  # the snapped numbers were offered
    for a, b in zip(reused, alone, strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_codec_round_trip_is_exact_for_observed_values(mixed_df):
    codec = TableCodec().fit(mixed_df)
    encoded = codec.encode(mixed_df, np.float64).values
    # decode the interval midpoints in probability space
    back = codec.decode(encoded)
    pd.testing.assert_series_equal(back["count"], mixed_df["count"])
    pd.testing.assert_series_equal(back["city"], mixed_df["city"])
    pd.testing.assert_series_equal(back["flag"], mixed_df["flag"])
    # the zero-inflated column is a spike-and-slab: zeros come back from the
    # companion, other values from the quantile map of the nonzero ones
    gain = mixed_df["gain"]
    assert back["gain"].dtype == gain.dtype
    assert np.all(back["gain"][gain == 0] == 0)
    inner = (gain > 0) & (gain > gain[gain > 0].min()) & (gain < gain.max())
    np.testing.assert_array_equal(back["gain"][inner], gain[inner])


def test_spike_and_slab_probabilities_add_up_to_one():
    rng = np.random.default_rng(3)
    n = 4000
    values = rng.normal(50, 10, n)
    values[rng.random(n) < 0.6] = 0.0
    values[rng.random(n) < 0.05] = 100.0
    codec = TableCodec().fit(pd.DataFrame({"v": values}))
    assert [kind for kind, _ in codec.heads()] == ["interval_gaussian", "categorical"]
    assert codec.heads()[1][1] == [3]  # atoms 0 and 100, and "none"
    atoms = codec.encode(pd.DataFrame({"v": [0.0, 100.0]}), np.float64).values
    # an atom is the whole line in the numeric part and its level in the companion
    assert stats.norm.cdf(atoms[:, 1]) - stats.norm.cdf(atoms[:, 0]) == pytest.approx(
        [1.0, 1.0]
    )
    np.testing.assert_array_equal(atoms[:, 2:], [[1, 0, 0], [0, 1, 0]])
    # the other values carry "none" and a density that integrates to one alone,
    # so P(0) + P(100) + P(none) * 1 = 1 whatever the companion's probabilities
    rest = values[(values != 0) & (values != 100)]
    grid = np.linspace(rest.min(), rest.max(), 200001)[1:-1]
    coded = codec.encode(pd.DataFrame({"v": grid}), np.float64)
    encoded, logjac = coded.values, coded.log_jacobian
    assert np.all(encoded[:, 4] == 1)
    density = np.exp(stats.norm.logpdf(encoded[:, 0]) + logjac)
    assert trapezoid(density, grid) == pytest.approx(1.0, abs=2e-3)
    # without the companion the same map leaves 1 - P(atoms) to the density
    plain = TableCodec(spikes=False).fit(pd.DataFrame({"v": values}))
    coded = plain.encode(pd.DataFrame({"v": grid}), np.float64)
    encoded, logjac = coded.values, coded.log_jacobian
    density = np.exp(stats.norm.logpdf(encoded[:, 0]) + logjac)
    atom_share = np.isin(values, [0.0, 100.0]).mean()
    assert trapezoid(density, grid) == pytest.approx(1 - atom_share, abs=2e-3)


@pytest.mark.slow
def test_spikes_tie_other_columns_to_exact_values():
    # the label depends on which nonzero atom the gain is, not monotonically:
    # 3000 and 7100 are "hi", their neighbours 3100 and 7000 are "lo"
    rng = np.random.default_rng(0)
    n = 3000
    gain = rng.choice([0, 3000, 3100, 7000, 7100], n, p=[0.68, 0.08, 0.08, 0.08, 0.08])
    other = rng.random(n) < 0.05
    gain = np.where(other, rng.integers(1, 10000, n), gain).astype(float)
    label = np.where(np.isin(gain, [3000, 7100]), "hi", "lo").astype(object)
    df = pd.DataFrame({"gain": gain, "label": label})
    kwargs = dict(FAST_TABLE, max_iter=40, hidden_layer_sizes=(32,))

    def share_hi(model):
        synthetic = model.fit(df).sample(6000, random_state=0)
        hi = synthetic["label"] == "hi"
        return {v: hi[synthetic["gain"] == v].mean() for v in [3000, 3100, 7000, 7100]}

    linked = share_hi(VAETransformer(**kwargs))
    plain = share_hi(VAETransformer(autoregressive=False, **kwargs))
    # measured: 0.92 / 0.03 / 0.02 / 0.90 linked, 0.32 / 0.27 / 0.38 / 0.49 plain
    assert min(linked[3000], linked[7100]) > 0.85
    assert max(linked[3100], linked[7000]) < 0.15
    assert plain[3000] - plain[3100] < linked[3000] - linked[3100] - 0.3
