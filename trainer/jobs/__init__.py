"""Work that runs in child processes, started and followed from the dashboard or the CLI: training runs and
their queue (launch), the mining job (mining), the export / merge / memory-probe tools (tools) and the settings
search (sweep). Imports core..models; never the engine (children are started by module name)."""
