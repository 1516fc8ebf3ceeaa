"""The REST API over HTTP (requests): JSON in, JSON out, every failure a one-line CliError."""

import requests

from delfin_like.cli import errors


class ApiClient:
    """A thin session on ``base_url`` (e.g. http://127.0.0.1:8190); paths start with ``/v1``."""

    def __init__(self, base_url: str, auth=None, verify=True, timeout: float = 30, config_path: str = ""):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.config_path = config_path
        self.session = requests.Session()
        self.session.auth = auth
        self.session.verify = verify
        self.session.headers["Accept"] = "application/json"

    def request(self, method: str, path: str, params=None, body=None):
        """Send one request; returns the decoded JSON body (None for an empty one).

        :raises CliError: the API's error, or why it could not be reached.
        """
        params = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self.session.request(method, self.base_url + path, params=params, json=body,
                                            timeout=self.timeout)
        except requests.RequestException as e:
            raise errors.from_transport(e, self.base_url, self.timeout)
        if response.status_code >= 400:
            raise errors.from_response(response, self.config_path)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise errors.CliError(f"{self.base_url}{path} answered {response.status_code} with a body "
                                  "that is not JSON: is --url the delfin_like API?")

    def get(self, path, **params):
        return self.request("GET", path, params=params)

    def post(self, path, body=None):
        return self.request("POST", path, body=body)

    def put(self, path, body):
        return self.request("PUT", path, body=body)

    def delete(self, path):
        return self.request("DELETE", path)
