"""delfin-like-api: the REST API (pecan on cheroot threads), port ``[api] port``."""

import sys

import delfin_like.cmd  # noqa: F401 - selects the threading backend first
from delfin_like.api import wsgi
from delfin_like.cmd import common


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``delfin-like-api``."""
    common.parse_config(argv, description="delfin-like REST API")
    if not common.check_api_options("delfin-like-api"):
        return 2
    # the database is configured by ProcessService.start, before the app is built
    from delfin_like.api import app

    api = wsgi.APIService(app_factory=app.setup_app)
    return common.launch(common.ProcessService("delfin-like-api", [api], uses_locks=False))


if __name__ == "__main__":
    sys.exit(main())
