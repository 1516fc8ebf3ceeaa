"""The pecan WSGI application of the REST API."""

import pecan

from delfin_like.api import auth, hooks, middleware, validation
from delfin_like.api.controllers import root
from delfin_like.common import exception


class Request(pecan.Request):
    """pecan's request, but a body validation.loads refuses is a ValueError, not a 400.

    pecan parses a JSON body into controller parameters and turns a decoding
    error into a bare HTML-less 400 before any controller runs; as a ValueError
    it is skipped there and the controller reports MalformedRequestBody.
    """

    def _json_body(self):
        try:
            return validation.loads(self.body)
        except exception.BadRequest as e:
            # too deep, not UTF-8, out of range...: the controller reports it properly
            raise ValueError(e.msg) from e

    json = json_body = property(_json_body)


def setup_app(rpcapi=None, auth_strategy=None):
    """Build the WSGI application.

    ``rpcapi`` is the task RPC client (``delfin_like.rpc.client.TaskAPI``);
    None creates one on first use. The database must already be configured
    (``db.api.configure()``); the app itself opens nothing. ``auth_strategy``
    (default ``[api] auth_strategy``) wraps the app in authentication (see
    :mod:`delfin_like.api.auth`); :mod:`delfin_like.api.middleware` guards it all.
    """
    app_hooks = [
        hooks.AccessLogHook(),
        hooks.BodyLimitHook(),
        hooks.NulCharacterHook(),
        hooks.ContextHook(),
        hooks.RPCHook(rpcapi),
        hooks.ErrorHook(),
    ]
    pecan_app = pecan.make_app(
        root.RootController(),
        hooks=app_hooks,
        debug=False,
        # "/v1/storages/x.json" must not be read as a content-type hint
        guess_content_type_from_ext=False,
        force_canonical=False,
        request_cls=Request,
    )
    # the guard sits right in front of pecan: authentication reads headers only
    return auth.wrap(middleware.RequestGuard(pecan_app), auth_strategy)
