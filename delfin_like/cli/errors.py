"""Errors the client reports: each renders as ONE line on stderr and exits 1."""

import requests

CREDENTIALS_HINT = ("pass credentials with --user/--password, DELFIN_LIKE_USER/DELFIN_LIKE_PASSWORD, "
                    "or the config file {config}")


class CliError(Exception):
    """A failure shown to the user as ``Error: <message>`` on one line."""

    def __init__(self, message: str):
        # newlines would break the one-line contract (and grep-ability) of the message
        super().__init__(" ".join(str(message).split()))

    def __str__(self) -> str:
        return f"Error: {self.args[0]}"


class ApiError(CliError):
    """The API answered with an error body (``error_code``, ``error_msg``)."""

    def __init__(self, status: int, error_code: str, error_msg: str):
        self.status, self.error_code, self.error_msg = status, error_code, error_msg
        super().__init__(f"{error_code}: {error_msg}")


class Unauthorized(ApiError):
    """401: the message says how to pass credentials."""

    def __init__(self, status: int, error_code: str, error_msg: str, config_path: str):
        super().__init__(status, error_code, error_msg)
        hint = CREDENTIALS_HINT.format(config=config_path)
        CliError.__init__(self, f"{error_code}: {error_msg.rstrip('.')}. To authenticate, {hint}.")


class TaskFailed(CliError):
    """A followed task ended FAILED or CANCELLED, or did not end in time."""


def from_response(response: requests.Response, config_path: str) -> ApiError:
    """Build the error for a non-2xx response: the API's error body, or the HTTP status and text."""
    try:
        body = response.json()
        code, msg = body["error_code"], body.get("error_msg") or ""
    except (ValueError, KeyError, TypeError):
        code = f"HTTP {response.status_code}"
        msg = (response.text or response.reason or "").strip()[:200]
    if response.status_code == 401:
        return Unauthorized(response.status_code, code, msg, config_path)
    return ApiError(response.status_code, code, msg)


def _root_cause(exc: BaseException) -> BaseException:
    seen = set()
    while True:
        nxt = exc.__cause__ or exc.__context__
        if nxt is None or id(nxt) in seen:
            return exc
        seen.add(id(exc))
        exc = nxt


def from_transport(exc: requests.RequestException, url: str, timeout: float) -> CliError:
    """Name the URL and the reason when the API cannot be reached at all."""
    if isinstance(exc, requests.exceptions.SSLError):
        return CliError(f"TLS error talking to {url}: use --ca-file FILE (or --insecure): {_root_cause(exc)}")
    if isinstance(exc, requests.Timeout):
        return CliError(f"no answer from {url} within {timeout:g} s (see --timeout)")
    text = str(exc)
    cause = _root_cause(exc)
    if isinstance(cause, ConnectionRefusedError) or "Connection refused" in text:
        reason = "connection refused"
    elif "Name or service not known" in text or "NameResolutionError" in text or "getaddrinfo" in text:
        reason = "host name not found"
    else:
        reason = str(cause) or type(cause).__name__
    return CliError(f"cannot connect to {url}: {reason}")
