"""Avatar generators: the offline MobileStyleGAN engine, the Mobius engine, and the face gate
every generated candidate must pass."""
