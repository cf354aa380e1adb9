"""The HTTP side of WHIP and WHEP for the test tools (whep_viewers.py, whip_publisher.py)."""

import urllib.error
import urllib.request


def http(method, url, token, body=None):
    """One HTTP request: (status, headers (read case-insensitively), body text); HTTP errors
    are answers too."""
    headers = {"Authorization": f"Bearer {token}"}
    if body is not None:
        headers["Content-Type"] = "application/sdp"
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read().decode()
