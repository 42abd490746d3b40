// The scenario catalogue: one file a scenario.
