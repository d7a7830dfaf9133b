"""One search over several processes or machines, through keras-tuner's chief/worker engine."""
