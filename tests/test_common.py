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

from skvae import VAETransformer

from .conftest import FAST

ESTIMATORS = [
    VAETransformer(**FAST),
    VAETransformer(**{**FAST, "hidden_layer_sizes": ()}, decoder_variance="shared"),
    VAETransformer(**FAST, decoder_variance="heteroscedastic", early_stopping=False),
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


# The set_output checks themselves fit on a DataFrame and transform an array.
@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
@pytest.mark.filterwarnings("ignore:X has feature names, but VAETransformer")
@pytest.mark.parametrize("check", EXTRA_CHECKS, ids=lambda c: c.__name__)
def test_public_checks_outside_check_estimator(check):
    check("VAETransformer", VAETransformer(**FAST))
