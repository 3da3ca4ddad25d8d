"""The skvae command line, run in-process."""

import numpy as np
import pandas as pd

from skvae._cli import main


def test_fit_then_sample_round_trip(tmp_path, capsys):
    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        {
            "age": rng.integers(18, 90, 200),
            "colour": rng.choice(["red", "blue"], 200),
            "code": rng.choice([1, 2, 3], 200),
        }
    )
    data = tmp_path / "data.csv"
    table.to_csv(data, index=False)
    model, out = tmp_path / "m.pkl", tmp_path / "syn.csv"
    args = ["--max-iter", "3", "--quiet", "--categorical", "code"]
    assert main(["fit", str(data), "-o", str(model), *args]) == 0
    assert main(["sample", str(model), "-n", "50", "-o", str(out)]) == 0
    synthetic = pd.read_csv(out)
    assert list(synthetic.columns) == ["age", "colour", "code"]
    assert len(synthetic) == 50
    assert set(synthetic["colour"]) <= {"red", "blue"}
    assert set(synthetic["code"]) <= {1, 2, 3}
    assert main(["synth", str(data), "-o", str(out), *args]) == 0
    assert len(pd.read_csv(out)) == 200
    assert "wrote" in capsys.readouterr().out


def test_errors_are_one_line(tmp_path, capsys):
    missing = tmp_path / "nope.csv"
    assert main(["synth", str(missing), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "skvae synth: error:" in err and "nope.csv" in err
    bad = tmp_path / "text.csv"
    pd.DataFrame({"x": [1.0, 2.0, 3.0], "s": ["a", "b", "c"]}).to_csv(bad, index=False)
    assert main(["fit", str(bad), "--likelihood", "gaussian", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Column 's'" in err
