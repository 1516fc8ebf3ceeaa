from oslo_config import cfg

group = cfg.OptGroup("database", title="SQL database options")

opts = [
    cfg.StrOpt(
        "connection",
        secret=True,
        help="SQLAlchemy URL of the database, e.g. postgresql+psycopg://user@host/delfin_like or "
        "mysql+pymysql://user@host/delfin_like. Unset: a SQLite file under state_path.",
    ),
    cfg.IntOpt("connect_timeout", default=5, min=1, help="Seconds to wait for a connection to the database server."),
    cfg.IntOpt("pool_size", default=10, min=1, help="Connections kept open per process (server databases)."),
    cfg.IntOpt("max_overflow", default=20, min=0, help="Extra connections allowed above pool_size."),
    cfg.IntOpt("pool_timeout", default=10, min=1, help="Seconds to wait for a free pooled connection."),
    cfg.IntOpt("write_batch_size", default=5000, min=100, help="Rows per statement when a sync writes in bulk."),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
