"""Stand-in for airflow.providers.http.hooks.http.HttpHook: connections come from
AIRFLOW_CONN_<ID> (JSON form, as Airflow reads it); run() joins base_url and endpoint and sends
with requests, as the real HttpHook does (url_from_endpoint, params for GET, data otherwise,
raise_for_status turned into AirflowException)."""
import json
import os
from types import SimpleNamespace

import requests

from airflow.exceptions import AirflowException


class HttpHook:
    def __init__(self, method="POST", http_conn_id="http_default", *args, **kwargs):
        self.method = method.upper()
        self.http_conn_id = http_conn_id
        self.base_url = ""

    @classmethod
    def get_connection(cls, conn_id):
        raw = os.environ.get("AIRFLOW_CONN_" + conn_id.upper())
        if raw is None:
            raise AirflowException(f"The conn_id `{conn_id}` isn't defined")
        d = json.loads(raw)
        return SimpleNamespace(host=d.get("host"), login=d.get("login"), password=d.get("password"),
                               port=d.get("port"), schema=d.get("schema"), extra=d.get("extra"))

    def get_conn(self, headers=None, extra_options=None):
        session = requests.Session()
        if headers:
            session.headers.update(headers)
        return session

    def url_from_endpoint(self, endpoint):
        if self.base_url and not self.base_url.endswith("/") and endpoint and not endpoint.startswith("/"):
            return self.base_url + "/" + endpoint
        return (self.base_url or "") + (endpoint or "")

    def run(self, endpoint=None, data=None, headers=None, extra_options=None, **request_kwargs):
        session = self.get_conn(headers)
        url = self.url_from_endpoint(endpoint)
        if self.method == "GET":
            req = requests.Request(self.method, url, params=data, headers=headers, **request_kwargs)
        else:
            req = requests.Request(self.method, url, data=data, headers=headers, **request_kwargs)
        prepped = session.prepare_request(req)
        response = session.send(prepped, timeout=30)
        try:
            response.raise_for_status()
        except requests.exceptions.HTTPError:
            raise AirflowException(f"{response.status_code}:{response.reason}: {response.text}")
        return response
