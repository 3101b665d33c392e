"""The MXNet runtime: the one place MXNet is imported, its one thread, LocationNet on MXNet, and
the untrained stand-in."""
