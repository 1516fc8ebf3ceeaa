"""NetApp drivers."""
