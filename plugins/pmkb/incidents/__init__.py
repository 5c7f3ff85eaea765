"""Stage 2, incidents: front matter -> a checked, typed `Incident`, or diagnostics saying
what is wrong where. The schema, the taxonomy and the checks of one file."""
