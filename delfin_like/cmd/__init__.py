"""Console scripts, one small module each.

Importing this package selects oslo.service's threading backend before
anything imports ``oslo_service.service`` or ``oslo_messaging``: the backend
can be chosen only once per process and eventlet is never used.
"""

import warnings

from oslo_service import backend as _backend

# futurist imports eventlet when it is installed (never used here); its deprecation notice is noise
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

_backend.init_backend(_backend.BackendType.THREADING)
