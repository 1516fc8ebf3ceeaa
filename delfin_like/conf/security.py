from oslo_config import cfg

group = cfg.OptGroup("security", title="Encryption of stored secrets")

opts = [
    cfg.ListOpt(
        "fernet_keys",
        default=[],
        secret=True,
        help="Fernet keys (url-safe base64, 32 bytes). The first encrypts; all decrypt.",
    ),
    cfg.StrOpt(
        "fernet_key_file",
        help="File with one Fernet key per line, the first encrypting. Used when fernet_keys is "
        "empty. Unset: <state_path>/fernet.keys, created (mode 0600) by the all-in-one.",
    ),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
