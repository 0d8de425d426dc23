"""The role table: who may do what, and the reason a refusal gives."""

from __future__ import annotations

import pytest

from core.access import GRANTS, Capability, PermissionDenied, Principal, Role, denial, require


def test_admin_holds_every_capability() -> None:
    assert all(denial(Role.ADMIN, capability) is None for capability in Capability)


def test_viewer_holds_no_capability_and_is_told_who_may() -> None:
    for capability in Capability:
        reason = denial(Role.VIEWER, capability)
        assert reason is not None and reason.startswith("the viewer role may not")
    assert denial(Role.VIEWER, Capability.WAIVE) == (
        "the viewer role may not waive (needs release_manager)"
    )


def test_operator_trades_but_cannot_waive_or_reset_risk() -> None:
    assert denial(Role.OPERATOR, Capability.TRADE) is None
    assert denial(Role.OPERATOR, Capability.RUN_JOBS) is None
    assert denial(Role.OPERATOR, Capability.WAIVE) is not None
    assert denial(Role.OPERATOR, Capability.RESET_RISK) == (
        "the operator role may not reset risk (needs admin)"
    )


def test_release_manager_signs_off_but_does_not_trade() -> None:
    assert denial(Role.RELEASE_MANAGER, Capability.SIGN_OFF) is None
    assert denial(Role.RELEASE_MANAGER, Capability.WAIVE) is None
    assert denial(Role.RELEASE_MANAGER, Capability.TRADE) is not None


def test_every_capability_is_granted_to_admin() -> None:
    assert set(GRANTS) == set(Capability)
    assert all(Role.ADMIN in roles for roles in GRANTS.values())


def test_require_names_the_principal_when_refusing() -> None:
    require(Principal("carol", Role.ADMIN), Capability.RESET_RISK)
    with pytest.raises(PermissionDenied, match=r"^bob: the viewer role may not trade"):
        require(Principal("bob", Role.VIEWER), Capability.TRADE)
