"""The search space: the schema of a space file, its YAML loading and its located errors."""
