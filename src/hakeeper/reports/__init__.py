"""Report items: what went wrong (or right), with a stable code, a place and what to do."""

from hakeeper.reports.report import CommandError, Report, Severity

__all__ = ["CommandError", "Report", "Severity"]
