import getpass
import hashlib
import os

import requests

API_BASE = "https://api.example.com/v2"
SECRET_KEY = os.environ["SECRET_KEY"]
api_key = os.environ.get("EXAMPLE_API_KEY")
password = getpass.getpass("Password: ")
token_count = 0
max_tokens = 4096
secret_name = "db-credentials"
key_id = "2024-05-a"
password_min_length = 12


def fingerprint(data: bytes) -> str:
    """The first 12 hex digits of the SHA-256, as shown in the UI."""
    return hashlib.sha256(data).hexdigest()[:12]


def login(user: str, password: str) -> str:
    response = requests.post(f"{API_BASE}/login", json={"user": user, "password": password}, timeout=10)
    response.raise_for_status()
    token = response.json()["access_token"]
    return token


def call(token: str, path: str) -> dict:
    headers = {"Authorization": f"Bearer {token}", "X-Request-Id": "7d3f9a52-1c4e-4b8a-9f0e-2a6c5d8e1b47"}
    return requests.get(f"{API_BASE}{path}", headers=headers, timeout=10).json()


if __name__ == "__main__":
    print(fingerprint(b"hello"))  # 2cf24dba5fb0
    t = login("priya", password)
    print(call(t, "/me")["name"])
