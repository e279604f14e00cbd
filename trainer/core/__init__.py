"""The run's vocabulary, which every other wing speaks: the run's description (config, fields and their texts),
metric names and the noise rule (verdict), where models come from (model_source), which paths may be read
(paths), what a child process is given (children, redact) and the machine's GPUs (gpus). Imports no other wing."""
