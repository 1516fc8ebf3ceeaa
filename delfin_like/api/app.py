"""The pecan WSGI application of the REST API."""

import json

import pecan

from delfin_like.api import auth, hooks
from delfin_like.api.controllers import root


class Request(pecan.Request):
    """pecan's request, but a body that is not UTF-8 JSON is a ValueError, not a 400.

    pecan parses a JSON body into controller parameters and turns a decoding
    error into a bare HTML-less 400 before any controller runs; as a ValueError
    it is skipped there and the controller reports MalformedRequestBody.
    """

    def _json_body(self):
        try:
            return json.loads(self.body)
        except UnicodeDecodeError as e:
            raise ValueError("the body is not UTF-8") from e

    json = json_body = property(_json_body)


def setup_app(rpcapi=None, auth_strategy=None):
    """Build the WSGI application.

    ``rpcapi`` is the task RPC client (``delfin_like.rpc.client.TaskAPI``);
    None creates one on first use. The database must already be configured
    (``db.api.configure()``); the app itself opens nothing. ``auth_strategy``
    (default ``[api] auth_strategy``) wraps the app in authentication (see
    :mod:`delfin_like.api.auth`).
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
    return auth.wrap(pecan_app, auth_strategy)
