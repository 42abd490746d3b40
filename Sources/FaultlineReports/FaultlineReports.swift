// Report renderers live here; see docs/reports.md.
