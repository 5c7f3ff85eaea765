"""Stage 1, reading: an incident file's bytes -> text -> front matter (YAML with the place of
every value) and body; the timestamps and dates written in it. Nothing here knows what an
incident is."""
