# oslo_messaging imports oslo_service.service, which fixes the backend for the
# process: select threads before any module of this package imports it.
from oslo_service import backend as _backend

_backend.init_backend(_backend.BackendType.THREADING)
