"""``delfin-like``: the cliff application, its global options and ``main``."""

import sys

from cliff import app, commandmanager

from delfin_like.cli import client, config, errors

NAMESPACE = "delfin_like.cli"


class DelfinLikeApp(app.App):
    """Global options: where the API is, how to authenticate, TLS, timeout, size display."""

    NAME = "delfin-like"
    CONSOLE_MESSAGE_FORMAT = "%(message)s"

    def __init__(self, **streams):
        super().__init__(description="Command-line client of the delfin_like REST API.",
                         version=_version(),
                         command_manager=commandmanager.CommandManager(NAMESPACE, convert_underscores=True),
                         deferred_help=True, **streams)
        self._client = None

    def build_option_parser(self, description, version, argparse_kwargs=None):
        parser = super().build_option_parser(description, version, argparse_kwargs)
        parser.add_argument("--url", default=None,
                            help=f"API URL (env DELFIN_LIKE_URL, config file; default {config.DEFAULT_URL})")
        parser.add_argument("--user", default=None, help="API user for http_basic (env DELFIN_LIKE_USER)")
        parser.add_argument("--password", default=None, dest="api_password",
                            help="API password (env DELFIN_LIKE_PASSWORD or the config file are safer)")
        tls = parser.add_mutually_exclusive_group()
        tls.add_argument("--insecure", action="store_true", help="do not verify the server's TLS certificate")
        tls.add_argument("--ca-file", default=None, help="CA bundle to verify the server's TLS certificate")
        parser.add_argument("--timeout", type=float, default=30, help="seconds per HTTP request (default 30)")
        human = parser.add_mutually_exclusive_group()
        human.add_argument("--human", dest="human", action="store_true", default=None,
                           help="sizes as KiB/MiB/GiB/TiB (default in table format)")
        human.add_argument("--no-human", dest="human", action="store_false",
                           help="sizes in raw bytes (default in json/yaml/csv/value)")
        return parser

    def initialize_app(self, argv):
        if not argv and not self.options.deferred_help:
            # no command: help rather than cliff's interactive shell, which scripts would hang on
            self.options.deferred_help = True

    @property
    def client(self) -> client.ApiClient:
        """The API client, built on first use from the global options, environment and config file."""
        if self._client is None:
            path = config.config_path()
            settings = config.resolve(self.options.url, self.options.user, self.options.api_password, path=path)
            for warning in settings.warnings:
                self.stderr.write(warning + "\n")
            auth = (settings.user, settings.password or "") if settings.user else None
            verify = self.options.ca_file or not self.options.insecure
            if self.options.insecure:
                import urllib3

                # the user asked for it once; a warning per request is noise
                urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
            self._client = client.ApiClient(settings.url, auth=auth, verify=verify,
                                            timeout=self.options.timeout, config_path=path)
        return self._client


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("delfin-like")
    except metadata.PackageNotFoundError:
        return "unknown"


def main(argv=None) -> int:
    """Console script ``delfin-like``."""
    try:
        return DelfinLikeApp().run(sys.argv[1:] if argv is None else argv)
    except errors.CliError as e:
        sys.stderr.write(f"{e}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
