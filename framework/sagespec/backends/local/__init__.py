"""The embedded local control plane: one SQLite database and an object store in a workspace folder."""
