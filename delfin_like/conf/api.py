from oslo_config import cfg

group = cfg.OptGroup("api", title="REST API options")

opts = [
    cfg.HostAddressOpt("host", default="127.0.0.1", help="Address the REST API binds."),
    cfg.PortOpt("port", default=8190, help="Port the REST API listens on."),
    cfg.IntOpt("threads", default=16, min=1, help="Request-handling threads of the WSGI server."),
    cfg.IntOpt("max_limit", default=1000, min=1, help="Largest page a list request may ask for."),
    cfg.IntOpt("default_limit", default=1000, min=1, help="Page size when a list request gives no limit."),
    cfg.IntOpt("max_body_bytes", default=1024 * 1024, min=1024, help="Largest request body accepted."),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
