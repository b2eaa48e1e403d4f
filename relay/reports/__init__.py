"""Reports over the store's snapshots: the deal tree (S6) and holdings (S24). See docs/reports.md."""
