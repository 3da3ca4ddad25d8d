"""The skvae command line, run in-process (and in a fresh process for --help)."""

import pickle
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

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


def _one_error_line(capsys, command):
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1, captured.err
    assert captured.err.startswith(f"skvae {command}: error: ")
    assert "Traceback" not in captured.err
    return captured.err


def test_errors_are_one_line(tmp_path, capsys):
    missing = tmp_path / "nope.csv"
    assert main(["synth", str(missing), "--quiet"]) == 2
    assert "nope.csv" in _one_error_line(capsys, "synth")
    bad = tmp_path / "text.csv"
    pd.DataFrame({"x": [1.0, 2.0, 3.0], "s": ["a", "b", "c"]}).to_csv(bad, index=False)
    assert main(["fit", str(bad), "--likelihood", "gaussian", "--quiet"]) == 2
    assert "Column 's'" in _one_error_line(capsys, "fit")
    assert main(["fit", str(bad), "--categorical", "zz", "--quiet"]) == 2
    assert "'zz'" in _one_error_line(capsys, "fit")


def test_infinite_numeric_cell_says_what_a_cli_user_can_do(tmp_path, capsys):
    data = tmp_path / "inf.csv"
    data.write_text("age,colour\n30,red\ninf,blue\n41,red\n52,blue\n")
    assert main(["synth", str(data), "--max-iter", "2", "--quiet"]) == 2
    err = _one_error_line(capsys, "synth")
    assert "'age'" in err and "infinity" in err


@pytest.mark.parametrize(
    "content",
    [b"", bytes(range(256)) * 8, b'a,b\n1,2\n"unclosed\n'],
    ids=["empty", "binary", "unclosed-quote"],
)
def test_a_file_that_is_not_a_csv(tmp_path, capsys, content):
    data = tmp_path / "data.csv"
    data.write_bytes(content)
    assert main(["synth", str(data), "--quiet"]) == 2
    assert "data.csv" in _one_error_line(capsys, "synth")


@pytest.mark.parametrize(
    "content",
    [b"a,b\n1,2\n", bytes(range(256)) * 8, pickle.dumps({"a": 1}), b""],
    ids=["csv", "binary", "other-pickle", "empty"],
)
def test_sample_from_a_file_that_is_not_a_model(tmp_path, capsys, content):
    model = tmp_path / "model.pkl"
    model.write_bytes(content)
    assert main(["sample", str(model), "-o", str(tmp_path / "out.csv")]) == 2
    assert "model.pkl" in _one_error_line(capsys, "sample")
    assert not (tmp_path / "out.csv").exists()


def test_help_does_not_import_torch():
    code = (
        "import sys, skvae._cli; "
        "print(sorted({'torch', 'sklearn', 'pandas'} & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
    start = time.perf_counter()
    for argv in (["--help"], ["synth", "--help"]):
        done = subprocess.run(
            [sys.executable, "-m", "skvae._cli", *argv], capture_output=True, text=True
        )
        assert done.returncode == 0 and "usage: skvae" in done.stdout
    assert time.perf_counter() - start < 10  # loose: the import check is the test


@pytest.mark.parametrize(
    "error, status",
    [(TypeError("bad cell"), 2), (KeyError("zz"), 2), (KeyboardInterrupt(), 130)],
)
def test_exit_status(monkeypatch, capsys, error, status):
    def fail(*args):
        raise error

    monkeypatch.setattr("skvae._cli._read_table", fail)
    assert main(["synth", "data.csv"]) == status
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("skvae synth: ")
    assert "'zz'" not in err  # a KeyError's message is its key, unquoted


def test_a_bug_is_not_dressed_as_a_usage_error(monkeypatch):
    def fail(*args):
        raise RuntimeError("a bug")

    monkeypatch.setattr("skvae._cli._read_table", fail)
    with pytest.raises(RuntimeError, match="a bug"):
        main(["synth", "data.csv"])
