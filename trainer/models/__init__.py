"""Where a trained model goes: the exported folder (export) and its model card (card). Imports core..planning."""
