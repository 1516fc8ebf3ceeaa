"""Console scripts, one small module each.

Importing this package selects oslo.service's threading backend before
anything imports ``oslo_service.service`` or ``oslo_messaging``: the backend
can be chosen only once per process and eventlet is never used.
"""

import sys

# eventlet comes with oslo.service but is never used: futurist imports it if it can, which prints
# its own deprecation notice and eight dnspython DSA warnings; a None entry makes that import fail
sys.modules.setdefault("eventlet", None)

from oslo_service import backend as _backend  # noqa: E402 - after the eventlet block above

_backend.init_backend(_backend.BackendType.THREADING)
