"""The scikit-learn contract: every common check, no expected failures."""

import pytest
from sklearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    check_get_feature_names_out_error,
    check_global_output_transform_pandas,
    check_param_validation,
    check_set_output_transform,
    check_set_output_transform_pandas,
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
    parametrize_with_checks,
)

from skvae import VAEImputer, VAETransformer

from .conftest import FAST

ESTIMATORS = [
    VAETransformer(**FAST),
    VAETransformer(**{**FAST, "hidden_layer_sizes": ()}, decoder_variance="shared"),
    VAETransformer(**FAST, decoder_variance="heteroscedastic", early_stopping=False),
    VAEImputer(**FAST),
]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda est: {})
def test_sklearn_compatible(estimator, check):
    check(estimator)


EXTRA_CHECKS = [
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
    check_get_feature_names_out_error,
    check_set_output_transform,
    check_set_output_transform_pandas,
    check_global_output_transform_pandas,
    check_dataframe_column_names_consistency,
    check_param_validation,
]


def _extra_cases():
    for check in EXTRA_CHECKS:
        yield pytest.param(check, VAETransformer, id=f"{check.__name__}-VAETransformer")
        yield pytest.param(check, VAEImputer, id=f"{check.__name__}-VAEImputer")


# The set_output checks themselves fit on a DataFrame and transform an array.
@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
@pytest.mark.filterwarnings("ignore:X has feature names, but VAETransformer")
@pytest.mark.filterwarnings("ignore:X has feature names, but VAEImputer")
@pytest.mark.parametrize(("check", "estimator"), list(_extra_cases()))
def test_public_checks_outside_check_estimator(check, estimator):
    check(estimator.__name__, estimator(**FAST))
