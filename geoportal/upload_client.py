"""The regional admin's client: send a layer to a running portal and wait for the ETL.

``geoportal upload --url https://portal --token ... layer.yaml`` (or ``scripts/upload-layer``)
reads the manifest, sends it with its data file (a Shapefile and its sidecar files go zipped)
as ``multipart/form-data`` streamed from disk with a progress bar, then polls the job until the
ETL has finished and prints its report. Exit codes: 0 published (or unchanged), 1 the server
failed or could not be reached, 2 the upload was rejected (the message says why).
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import yaml

from geoportal.errors import GeoportalError, InputError

__all__ = ["UploadFailed", "upload_layer"]

_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")
CHUNK = 1024 * 1024


class UploadFailed(GeoportalError):
    """The portal failed or could not be reached (exit 1)."""


class UploadRejected(InputError):
    """The portal refused the upload or the ETL rejected the data (exit 2)."""


@dataclass
class _Multipart:
    """A multipart/form-data body streamed from disk, with its exact length up front (so the
    request is not chunked) and a callback per chunk sent."""

    fields: dict[str, str]
    file_field: str
    path: Path
    on_chunk: Callable[[int], None]

    def __post_init__(self) -> None:
        self.boundary = f"geoportal-{uuid.uuid4().hex}"
        head = "".join(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n'
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{value}\r\n"
            for name, value in self.fields.items())
        head += (f'--{self.boundary}\r\nContent-Disposition: form-data; '
                 f'name="{self.file_field}"; filename="{self.path.name}"\r\n'
                 "Content-Type: application/octet-stream\r\n\r\n")
        self.head = head.encode("utf-8")
        self.tail = f"\r\n--{self.boundary}--\r\n".encode()

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return len(self.head) + self.path.stat().st_size + len(self.tail)

    def __iter__(self) -> Iterator[bytes]:
        yield self.head
        with self.path.open("rb") as f:
            while chunk := f.read(CHUNK):
                self.on_chunk(len(chunk))
                yield chunk
        yield self.tail


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: cannot read the manifest: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: a manifest is a mapping (id, region, theme, title, source)")
    return data


def _data_file(manifest: Path, data: dict[str, Any], scratch: Path) -> Path:
    """The file to send: the manifest's source, with a Shapefile's sidecars zipped."""
    source = data.get("source")
    name = source.get("path") if isinstance(source, dict) else source
    if not name:
        raise InputError(f"{manifest}: 'source.path' names no data file")
    path = (manifest.parent / str(name)).resolve()
    if not path.is_file():
        raise InputError(f"{manifest}: the data file {path} does not exist")
    if path.suffix.lower() != ".shp":
        return path
    packed = scratch / f"{path.stem}.zip"
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in sorted(path.parent.glob(f"{path.stem}.*")):
            if part.suffix.lower() in _SHAPEFILE_PARTS:
                zf.write(part, part.name)
    return packed


def _error(response: requests.Response) -> str:
    try:
        body = response.json()
        return str(body.get("description") or body.get("error") or body)
    except ValueError:
        return response.text.strip()[:500] or response.reason


def upload_layer(url: str, token: str, manifest: Path, *,
                 progress: Callable[[str, int, int], None] | None = None,
                 poll_seconds: float = 1.0, timeout_s: float = 3600.0) -> dict[str, Any]:
    """Send the manifest's layer, wait for its job and return the finished job (a dict).

    Raises UploadRejected (exit 2) when the portal refuses the upload or the ETL rejects the
    data, UploadFailed (exit 1) when the portal fails or cannot be reached."""
    base = url.rstrip("/")
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    data = _read_manifest(manifest)
    progress = progress or (lambda stage, done, total: None)
    with tempfile.TemporaryDirectory(prefix="geoportal-upload-") as scratch:
        path = _data_file(manifest, data, Path(scratch))
        sent = 0
        total = path.stat().st_size

        def on_chunk(n: int) -> None:
            nonlocal sent
            sent += n
            progress("upload", sent, total)

        body = _Multipart({"manifest": yaml.safe_dump(data, allow_unicode=True)}, "file",
                          path, on_chunk)
        try:
            response = requests.post(f"{base}/admin/layers", data=body, timeout=(10, 600),
                                     headers={**headers, "Content-Type": body.content_type})
        except requests.RequestException as exc:
            raise UploadFailed(f"cannot reach {base}: {exc}") from None
    if response.status_code >= 500:
        raise UploadFailed(f"the portal failed ({response.status_code}): {_error(response)}")
    if response.status_code != 202:
        raise UploadRejected(f"{manifest.name}: refused ({response.status_code}): "
                             f"{_error(response)}")
    job: dict[str, Any] = response.json()  # the job as the admin API shows it
    monitor = f"{base}/admin/jobs/{job['id']}"
    deadline = time.monotonic() + timeout_s
    while job.get("state") in ("queued", "running"):
        progress(job["state"], 0, 0)
        if time.monotonic() > deadline:
            raise UploadFailed(f"job {job['id']} did not finish within {timeout_s:.0f} s")
        time.sleep(poll_seconds)
        try:
            polled = requests.get(monitor, headers=headers, timeout=30)
        except requests.RequestException as exc:
            raise UploadFailed(f"cannot reach {base} to follow job {job['id']}: {exc}") \
                from None
        if polled.status_code != 200:
            raise UploadFailed(f"job {job['id']}: {polled.status_code} {_error(polled)}")
        job = polled.json()
    if job["state"] == "rejected":
        raise UploadRejected(f"{manifest.name}: the ETL rejected it: {job.get('error')}")
    if job["state"] != "done":
        raise UploadFailed(f"{manifest.name}: job {job['id']} {job['state']}: "
                           f"{job.get('error')}")
    return job


def token_from_env(given: str | None) -> str:
    """The token from --token or GEOPORTAL_TOKEN (better: it stays out of shell history)."""
    token = given or os.environ.get("GEOPORTAL_TOKEN")
    if not token:
        raise InputError("give the token with --token or in GEOPORTAL_TOKEN")
    return token
