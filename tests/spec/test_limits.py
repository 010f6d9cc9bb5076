"""Every SageMaker limit sagespec checks is the one botocore's SageMaker service model declares."""

import botocore.session
import pytest

from sagespec.aws.limits import LIMITS

SERVICE = botocore.session.get_session().get_service_model("sagemaker")


@pytest.mark.parametrize("limit", LIMITS, ids=[f"{lim.kind}-{'.'.join(lim.path)}" for lim in LIMITS])
def test_each_limit_is_the_service_models(limit):
    shape = SERVICE.shape_for(limit.shape)
    assert (limit.minimum, limit.maximum) == (shape.metadata.get("min", 0), shape.metadata["max"]), limit.source
    assert limit.measure == ("count" if shape.type_name in ("list", "map") else "length")
