"""Exporters of performance samples: the contract and fan-out (:mod:`.base`) and one module per exporter."""
