"""Storage drivers for delfin-like. They import only :mod:`delfin_like.sdk`."""
