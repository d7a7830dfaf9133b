"""The CNN family: the declared hyperparameters, the model builder, the readout and its losses."""
