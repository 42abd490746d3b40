// The load generator lives here; see docs/load.md.
