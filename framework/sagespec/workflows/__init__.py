"""One function per user task (validate, compile, diff, upsert, run, register, approve, promote,
...): target-agnostic, given a Context, returning result objects that the CLI presents."""
