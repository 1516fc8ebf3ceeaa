"""Configuration: one module per option group, all registered on the global CONF.

oslo.messaging registers its own options on the global ``cfg.CONF`` only, so
the service uses the global object too. Read options at call time, never at
import time.
"""

from oslo_config import cfg

from delfin_like.conf import (
    alert_exporters,
    alert_receiver,
    alert_sync,
    all_in_one,
    api,
    coordination,
    database,
    default,
    exporters,
    retention,
    rpc,
    scheduler,
    security,
    storage_driver,
    task_manager,
)

CONF = cfg.CONF

default.register_opts(CONF)
alert_exporters.register_opts(CONF)
alert_receiver.register_opts(CONF)
alert_sync.register_opts(CONF)
all_in_one.register_opts(CONF)
api.register_opts(CONF)
coordination.register_opts(CONF)
database.register_opts(CONF)
exporters.register_opts(CONF)
retention.register_opts(CONF)
rpc.register_opts(CONF)
scheduler.register_opts(CONF)
security.register_opts(CONF)
storage_driver.register_opts(CONF)
task_manager.register_opts(CONF)
