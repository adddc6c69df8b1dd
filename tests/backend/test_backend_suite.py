"""The official ONNX backend suite (node, simple, pytorch-converted, pytorch-operator, light).

Cases listed in excluded.txt are expected to fail, each with its reason. A listed case that
passes is reported at the end of the run (see conftest.py) so the list can be kept true.
"""

import warnings

import pytest

from . import harness

EXCLUDED = harness.excluded()
CASES = harness.all_cases()


def _param(case):
    marks = []
    if case.name in EXCLUDED:
        marks.append(pytest.mark.xfail(reason=EXCLUDED[case.name], strict=False))
    return pytest.param(case, id=f"{case.kind}/{case.name}", marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_backend_case(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        harness.run_case(case)
