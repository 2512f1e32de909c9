"""A failed test that ran a lab keeps the lab's logs (tests/lab/logs.py): the report says
where."""

from __future__ import annotations

from collections.abc import Generator

import pytest

from hakeeper.lab.plan import LabPlan
from lab.logs import keep_lab_logs


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" and report.failed:
        values = getattr(item, "funcargs", {}).values()
        for plan in [v for v in values if isinstance(v, LabPlan)]:
            kept = keep_lab_logs(plan.directory, item.nodeid)
            if kept is not None:
                report.sections.append(("lab logs", f"the lab's logs are kept in {kept}"))
    return report
