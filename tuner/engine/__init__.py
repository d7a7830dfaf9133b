"""The search on keras-tuner: tuners and oracles, durability, failures, reproducibility, held-out scoring."""
