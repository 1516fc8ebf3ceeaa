from oslo_config import cfg

group = cfg.OptGroup("api", title="REST API options")

opts = [
    cfg.HostAddressOpt("host", default="127.0.0.1", help="Address the REST API binds."),
    cfg.PortOpt("port", default=8190, help="Port the REST API listens on."),
    cfg.IntOpt("threads", default=16, min=1, help="Request-handling threads of the WSGI server."),
    cfg.IntOpt("max_limit", default=1000, min=1, help="Largest page a list request may ask for."),
    cfg.IntOpt(
        "max_offset",
        default=10000,
        min=0,
        help="Largest offset a list request may give; deeper pages are reached by marker (the next link of "
        "each page), which costs the same at any depth while an offset costs the rows it skips.",
    ),
    cfg.IntOpt("default_limit", default=1000, min=1, help="Page size when a list request gives no limit."),
    cfg.IntOpt("max_body_bytes", default=1024 * 1024, min=1024, help="Largest request body accepted."),
    cfg.StrOpt(
        "auth_strategy",
        default="noauth",
        choices=[
            ("noauth", "no authentication; refused at start-up unless [api] host is a loopback address"),
            ("http_basic", "HTTP basic auth against [api] http_basic_auth_user_file (bcrypt htpasswd)"),
            ("keystone", "OpenStack Keystone tokens (keystonemiddleware, [keystone_authtoken] options; "
                         "pip install 'delfin-like[keystone]')"),
        ],
        help="How the REST API authenticates requests. GET /, /healthz, /readyz and "
        "/v1/openapi.json are always public; everything else under /v1 needs credentials.",
    ),
    cfg.StrOpt(
        "http_basic_auth_user_file",
        default="/etc/delfin_like/htpasswd",
        help="htpasswd file for auth_strategy=http_basic: one 'user:<bcrypt hash>' per line "
        "(htpasswd -B -c FILE USER). Read at every request, so users can be changed live.",
    ),
    cfg.StrOpt(
        "tls_cert_file",
        help="PEM certificate (chain) the REST API serves HTTPS with. Set with tls_key_file; "
        "both unset: plain HTTP.",
    ),
    cfg.StrOpt("tls_key_file", help="PEM private key of tls_cert_file."),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
