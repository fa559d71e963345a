"""Pure functions over tidy run tables: aggregation, statistics, model error, plots."""
