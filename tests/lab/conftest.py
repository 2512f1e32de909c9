"""What the lab's tests need: root and the lab's tools; in CI, where `make install` provides
them, their absence is a failure, not a skip."""

from __future__ import annotations

import os
import shutil

import pytest


def need(*tools: str, root: bool = False) -> None:
    missing = [t for t in tools if shutil.which(t, path="/usr/sbin:/usr/bin:/sbin:/bin") is None]
    reason = ""
    if root and os.geteuid() != 0:
        reason = "needs root (network namespaces, a bridge, mounts)"
    elif missing:
        reason = f"not installed: {', '.join(missing)} (`make install`)"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: CI must run the lab's tests for real")
        pytest.skip(reason)
