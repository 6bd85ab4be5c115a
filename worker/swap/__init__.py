"""Face swap backends: the classical landmark swapper and the learned ones."""
