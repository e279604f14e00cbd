"""What a run will do before it starts: the plan (plan), the checks before a start (checks), FlagEmbedding's
arguments (flag_args) and the plain command that reproduces a run (reproduce). Imports core..sizing."""
