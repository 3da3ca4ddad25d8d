"""The autoregressive decoder over discrete columns: an exact, normalised likelihood."""

import itertools

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from skvae import VAETransformer

from .conftest import FAST_TABLE

TWO_EPOCHS = {**FAST_TABLE, "max_iter": 2}


@pytest.fixture
def discrete_df():
    rng = np.random.default_rng(0)
    n = 200
    return pd.DataFrame(
        {
            "colour": rng.choice(["red", "green", "blue"], n).astype(object),
            "flag": rng.random(n) < 0.4,
            "size": pd.Categorical(rng.choice(["S", "L"], n)),
        }
    )


def _fitted_with_random_links(df, scale=1.0):
    """A fitted model whose autoregressive weights are random, not the zero start.

    Both paths are randomised: the direct masked map and the masked hidden layer.
    """
    vae = VAETransformer(**TWO_EPOCHS).fit(df)
    network = vae.module_.autoregressive
    assert network.n_hidden > 0
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for weight in network.parameters():
            weight.copy_(scale * torch.randn(weight.shape, generator=generator))
    return vae


def _all_rows(vae, df):
    """Every combination of the columns' levels, encoded, as a float tensor."""
    levels = [sorted(df[c].dropna().unique(), key=str) for c in df.columns]
    frame = pd.DataFrame(list(itertools.product(*levels)), columns=df.columns)
    frame = frame.astype(df.dtypes.to_dict())
    encoded = vae._codec.encode(frame, np.float32).values
    return torch.as_tensor(encoded)


def _log_probs(module, x, z):
    with torch.no_grad():
        return module.likelihood.log_prob(module.decode(z.expand(len(x), -1), x), x)


def test_discrete_likelihood_sums_to_one_over_all_rows(discrete_df):
    vae = _fitted_with_random_links(discrete_df)
    x = _all_rows(vae, discrete_df)
    assert x.shape[0] == 3 * 2 * 2
    module = vae.module_
    codes = [
        torch.randn(1, vae.n_components, generator=torch.Generator().manual_seed(s))
        for s in range(3)
    ]
    for z in codes:
        total = torch.logsumexp(_log_probs(module, x, z), 0)
        assert abs(float(total)) < 1e-5
    # the check has teeth: letting each column read every column, through
    # either path, breaks it
    network = module.autoregressive
    for name in ("mask", "mask_in", "mask_out"):
        kept = getattr(network, name).clone()
        with torch.no_grad():
            getattr(network, name).fill_(1.0)
        totals = [torch.logsumexp(_log_probs(module, x, z), 0) for z in codes]
        assert max(abs(float(t)) for t in totals) > 1e-2, name
        with torch.no_grad():
            getattr(network, name).copy_(kept)


@pytest.mark.slow
def test_sampled_rows_follow_the_model_likelihood(discrete_df):
    vae = _fitted_with_random_links(discrete_df, scale=0.7)
    module = vae.module_
    x = _all_rows(vae, discrete_df)
    z = torch.randn(1, vae.n_components, generator=torch.Generator().manual_seed(0))
    expected = torch.exp(_log_probs(module, x, z)).double().numpy()
    n = 60_000
    draws = module.generate(z.expand(n, -1), "sample", torch.Generator().manual_seed(2))
    # each draw is one of the enumerated rows: count them
    matches = (draws[:, None, :] == x[None, :, :]).all(-1)
    assert bool(matches.any(1).all())
    observed = matches.sum(0).numpy()
    # float32 sums to one within ~1e-7 (tested above); chisquare wants 1e-8
    result = stats.chisquare(observed, expected / expected.sum() * n)
    assert result.pvalue > 1e-3


@pytest.mark.slow
def test_the_order_links_a_number_and_a_category():
    # y is +-3 by the category; with one latent unit switched off by a strong
    # KL, only the autoregressive link can carry the dependence (the category
    # has 1000 rows a level, so it follows y in the order and reads it)
    rng = np.random.default_rng(0)
    n = 2000
    group = rng.choice(["a", "b"], n).astype(object)
    y = np.where(group == "a", -3.0, 3.0) + rng.normal(size=n)
    df = pd.DataFrame({"group": group, "y": y})
    common = dict(
        n_components=1,
        kl_weight=50.0,
        max_iter=100,
        hidden_layer_sizes=(16,),
        device="cpu",
        random_state=0,
    )
    linked = VAETransformer(**common).fit(df).sample(4000, random_state=0)
    plain = VAETransformer(autoregressive=False, **common).fit(df)
    plain = plain.sample(4000, random_state=0)
    real = df.groupby("group")["y"].mean()
    gap = linked.groupby("group")["y"].mean()
    assert gap["b"] - gap["a"] > 0.85 * (real["b"] - real["a"])
    plain_gap = plain.groupby("group")["y"].mean()
    assert abs(plain_gap["b"] - plain_gap["a"]) < 2.0


def test_a_category_that_a_number_determines_is_read_from_it():
    # "tail" is |x| > 1: no level range holds it (its rows lie on both sides
    # of the others), so only the order can; with 1000 rows a level
    # it follows x and reads it, where x given "tail" would be bimodal
    def table(n, seed):
        x = np.random.default_rng(seed).normal(size=n)
        return pd.DataFrame({"tail": np.abs(x) > 1, "x": x})

    vae = VAETransformer(random_state=0).fit(table(2000, 0))
    assert vae.module_.order == [(False, 0), (True, 0)]  # x, then tail
    sampled = vae.sample(4000, random_state=0)
    kept = np.mean(sampled["tail"] == (sampled["x"].abs() > 1))
    assert kept > 0.965  # 0.948 with tail before x
    # Gibbs: the held-out mean bound stays below the true mean log-density,
    # which is x's alone (tail is a function of x)
    test = table(20000, 1)
    scores = vae.score_samples(test)
    truth = stats.norm.logpdf(test["x"]).mean()
    assert scores.mean() <= truth + 3 * scores.std() / np.sqrt(len(scores))


@pytest.mark.parametrize("n_rows, follows", [(999, False), (1000, True)])
def test_a_category_follows_the_numbers_with_500_rows_a_level(n_rows, follows):
    # fewer rows a level: its dependence on the numbers would be learned as
    # a lookup of training rows, so it stays before them
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=n_rows), "c": rng.random(n_rows) < 0.5})
    vae = VAETransformer(**TWO_EPOCHS).fit(df)
    order = [(False, 0), (True, 0)] if follows else [(True, 0), (False, 0)]
    assert vae.module_.order == order


def test_arrays_keep_the_factorised_decoder(small_X):
    vae = VAETransformer(**TWO_EPOCHS).fit(small_X)
    assert vae.module_.autoregressive is None
    binary = (small_X > small_X.mean(0)).astype(float)
    vae = VAETransformer(likelihood="bernoulli", autoregressive=True, **TWO_EPOCHS)
    assert vae.fit(binary).module_.autoregressive is not None
    assert vae.sample(5, random_state=0).shape == (5, 5)


@pytest.mark.parametrize(
    "n_columns, continuous, n_hidden",
    [(5, True, 128), (5, False, 128), (5, True, 2), (300, True, 16), (1, False, 8)],
)
def test_every_hidden_unit_reads_an_input_and_feeds_an_output(
    n_columns, continuous, n_hidden
):
    from skvae._made import MADE

    orders = torch.arange(1, n_columns + 1).repeat_interleave(2)
    if continuous:
        orders = torch.cat([orders, torch.full((3,), n_columns + 1)])
    network = MADE(orders, orders, n_columns, 4, n_hidden, "relu", torch.float32)
    if n_columns == 1 and not continuous:
        # the one column can read nothing: a hidden layer would be dead weight
        assert network.n_hidden == 0
        return
    assert network.n_hidden == n_hidden
    assert bool((network.mask_in.sum(1) > 0).all())
    assert bool((network.mask_out.sum(0) > 0).all())
    # with fewer units than orders the units still reach the last columns
    deepest = int(network.mask_in.sum(1).max())
    assert deepest >= 2 * (n_columns - 1) - 2 * (n_columns // n_hidden)


@pytest.mark.parametrize(
    "n_hidden, n_inputs", [(16, 12), (3, 12), (0, 12), (16, 40000)]
)
def test_a_row_filled_column_by_column_gets_the_outputs_of_the_whole_row(
    n_hidden, n_inputs
):
    """Filling: the outputs accumulated as each column is added equal the
    network's outputs on the complete rows, whatever the feature layout
    (the columns' features interleaved, not in order); 40,000 inputs leave
    the direct map out."""
    from skvae._made import MADE

    generator = torch.Generator().manual_seed(0)
    n_columns = 6
    # column k owns every 6th feature from k on, in a shuffled order of columns
    order = torch.randperm(n_columns, generator=generator) + 1
    inputs = order[torch.arange(n_inputs) % n_columns]
    outputs = torch.cat([inputs[:30], torch.full((4,), n_columns + 1)])
    network = MADE(inputs, outputs, n_columns, 3, n_hidden, "tanh", torch.float64)
    assert network.direct == (n_inputs < 30_000)
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.normal_(generator=generator)
    x = torch.randn(50, n_inputs, dtype=torch.float64, generator=generator)
    z = torch.randn(50, 3, dtype=torch.float64, generator=generator)
    with torch.no_grad():
        expected = network(x, z)
        filling = network.start(z, torch.zeros(50, len(outputs), dtype=x.dtype))
        for k in range(1, n_columns + 1):
            features = torch.nonzero(inputs == k)[:, 0]
            mine = torch.nonzero(outputs == k)[:, 0]
            got = filling.outputs(mine)
            torch.testing.assert_close(got, expected[:, mine])
            for f in features.tolist():  # add reads slices
                filling.add(x, slice(f, f + 1))
        rest = filling.outputs(slice(None))
    torch.testing.assert_close(rest, expected)
