"""The sandbox fault plan: spec parsing and consumption order."""

import pytest

from pupitre.providers.core.faults import FaultPlan


@pytest.mark.parametrize(
    "spec,expected",
    [
        ("/sfm/v1/sites/*=status:503x3", ("/sfm/v1/sites/*", "status", 3, 503)),
        ("/a=expired_token", ("/a", "expired_token", 1, 500)),
        ("/a=expired_tokenx2", ("/a", "expired_token", 2, 500)),
        ("/a=quota", ("/a", "quota", 1, 500)),
        ("/a=timeoutx4", ("/a", "timeout", 4, 500)),
        ("/a=truncated", ("/a", "truncated", 1, 500)),
    ],
)
def test_parse(spec, expected):
    fault = FaultPlan.parse(spec)
    assert (fault.route, fault.kind, fault.count, fault.status) == expected


@pytest.mark.parametrize(
    "spec", ["/a=nope", "=status", "/a=status:200", "/a=status:503x0", "/a=quota:503", "/a=status:abc", "no-equals"]
)
def test_parse_refuses_bad_specs(spec):
    with pytest.raises(ValueError, match="bad fault"):
        FaultPlan.parse(spec)


def test_faults_are_consumed_in_order_and_by_route():
    plan = FaultPlan()
    plan.add("/x/*", "status", count=2, status=502)
    plan.add("/y", "quota")
    assert plan.take("GET", "/y").kind == "quota"
    assert plan.take("GET", "/y") is None
    assert plan.take("GET", "/x/1").status == 502
    assert plan.take("POST", "/x/2").status == 502
    assert plan.take("GET", "/x/3") is None
