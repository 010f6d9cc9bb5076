"""The spec stage: load (safe YAML with positions), render (templates), validate (the JSON Schema,
then the semantic checks). `spec.load` is its face: `load_spec`, `validate_paths`."""
