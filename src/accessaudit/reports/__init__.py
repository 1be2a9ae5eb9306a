"""Reports of an audit: console summary (tabulate), JSON findings, the Excel workbook.

Reports see only the :class:`~accessaudit.audit.AuditResult` and the Snapshot; they never
re-run rules. Each module is imported on its own (``accessaudit.reports.excel`` pulls in
xlsxwriter and pyarrow), so this package re-exports nothing.
"""

__all__: list[str] = []
