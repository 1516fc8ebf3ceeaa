"""The driver SDK: the only part of delfin_like that drivers may import.

It holds the driver contract (:mod:`delfin_like.sdk.driver`), the normalised
resource models drivers return (:mod:`delfin_like.sdk.models`) and the
exceptions they raise (:mod:`delfin_like.sdk.exceptions`). Nothing here imports
the rest of the service.
"""
