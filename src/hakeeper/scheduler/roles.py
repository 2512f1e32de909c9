"""Role conditions of a colocation, shared by placement and utilization."""

from __future__ import annotations

from hakeeper.model.config import Role
from hakeeper.scheduler.working import Coloc, Rsc


def roles_allow_colocation(dependent: Rsc, primary: Rsc, coloc: Coloc) -> bool:
    """Whether a colocation's rsc-role/with-rsc-role let it place dependent by primary."""
    if coloc.score > 0:
        if coloc.dependent_role != Role.UNKNOWN and coloc.dependent_role != dependent.next_role:
            return False
        if coloc.primary_role != Role.UNKNOWN and coloc.primary_role != primary.next_role:
            return False
    if coloc.score < 0:
        if coloc.dependent_role != Role.UNKNOWN and coloc.dependent_role == dependent.next_role:
            return False
        if coloc.primary_role != Role.UNKNOWN and coloc.primary_role == primary.next_role:
            return False
    return True
