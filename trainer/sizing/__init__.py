"""How big and how long: GPU memory (memory), length buckets (buckets), time (estimate), the learning-rate and
warmup advice (advice, suggest). Imports core, store and data."""
