"""The model store: md5 verification, resumable verified downloads, atomic installs, imports."""

from __future__ import annotations

import hashlib
import http.server
import shutil
import threading

import pytest

from geoguess_app.core.engine import download_model, import_model
from geoguess_app.core.errors import StoreError
from geoguess_app.core.model.files import GRIDS_FILE, MODEL_FILES, PARAMS_FILE, SYMBOL_FILE, OfficialFile
from geoguess_app.core.model.onnx.convert import ONNX_FILE
from geoguess_app.core.model.store import (
    ENV_MODEL_DIR,
    default_model_dir,
    download,
    inspect_folder,
    resolve_model_dir,
)


class FileServer:
    """A local HTTP server for a dict of name -> bytes, with Range support and a way to break
    the first transfer of a file after some bytes (to test resuming)."""

    def __init__(self, files: dict[str, bytes]):
        self.files = files
        self.break_after: dict[str, int] = {}
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                name = self.path.lstrip("/")
                rng = self.headers.get("Range")
                server.requests.append((name, rng))
                data = server.files.get(name)
                if data is None:
                    self.send_error(404)
                    return
                start = int(rng.split("=")[1].split("-")[0]) if rng else 0
                if start >= len(data):
                    self.send_response(416)
                    self.end_headers()
                    return
                body = data[start:]
                self.send_response(206 if rng else 200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                cut = server.break_after.pop(name, None)
                self.wfile.write(body if cut is None else body[:cut])  # then the connection drops

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}/{name}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def model_bytes(tiny_model_dir) -> dict[str, bytes]:
    return {name: (tiny_model_dir / name).read_bytes() for name in MODEL_FILES}


@pytest.fixture
def server(model_bytes):
    s = FileServer(model_bytes)
    yield s
    s.close()


def specs(server: FileServer, files: dict[str, bytes]) -> list[OfficialFile]:
    return [OfficialFile(n, hashlib.md5(d).hexdigest(), server.url(n), len(d)) for n, d in files.items()]


def test_download_installs_a_verified_model(server, model_bytes, tmp_path):
    target = tmp_path / "store" / "locationnet"
    seen = []
    download_model(target, specs(server, model_bytes), progress=lambda n, done, total: seen.append((n, done, total)))
    for name, data in model_bytes.items():
        assert (target / name).read_bytes() == data
    assert (target / ONNX_FILE).stat().st_size > 0  # its ONNX form is made at once, not at the first load
    assert not list((tmp_path / "store").glob(".*"))  # no staging left behind
    assert {n for n, _, _ in seen} == set(MODEL_FILES)
    assert all(done == total for n, done, total in seen if (n, done) == max((s[0], s[1]) for s in seen if s[0] == n))


def test_broken_transfer_resumes_where_it_stopped(server, model_bytes, tmp_path):
    target = tmp_path / "locationnet"
    big = dict(model_bytes)
    big[PARAMS_FILE] = bytes(range(256)) * 12_000  # 3 MB
    server.files = big
    server.break_after[PARAMS_FILE] = 2_000_000
    with pytest.raises(StoreError, match="connection broke while downloading RN101-5k500-0012.params"):
        download(target, specs(server, big))
    assert not target.exists()  # never a half model in place
    download(target, specs(server, big))
    assert (target / PARAMS_FILE).read_bytes() == big[PARAMS_FILE]
    ranges = [r for n, r in server.requests if n == PARAMS_FILE]
    assert ranges[0] is None and ranges[-1] is not None
    resumed_at = int(ranges[-1].split("=")[1].rstrip("-"))
    assert 2_000_000 - 65536 <= resumed_at <= 2_000_000  # only the rest was fetched again
    assert [n for n, _ in server.requests].count(SYMBOL_FILE) == 1  # finished files are not fetched twice


def test_wrong_md5_is_rejected_and_the_old_model_kept(server, model_bytes, tmp_path):
    target = tmp_path / "locationnet"
    target.mkdir()
    (target / "old-model-file").write_text("previous install")
    bad = specs(server, model_bytes)
    bad[1] = OfficialFile(bad[1].name, "0" * 32, bad[1].url, bad[1].size)
    with pytest.raises(StoreError, match="md5 sum is .* not the published 0000"):
        download(target, bad)
    assert (target / "old-model-file").read_text() == "previous install"
    assert not (target / PARAMS_FILE).exists()


def test_unreachable_host_fails_fast_with_advice(tmp_path):
    spec = OfficialFile("x", "0" * 32, "http://127.0.0.1:9/x", None)  # nothing listens on port 9
    with pytest.raises(StoreError, match="cannot reach 127.0.0.1: no internet connection.*model import"):
        download(tmp_path / "m", [spec], timeout=3)


def test_server_error_is_reported(server, model_bytes, tmp_path):
    spec = OfficialFile("missing.bin", "0" * 32, server.url("missing.bin"), None)
    with pytest.raises(StoreError, match="answered 404"):
        download(tmp_path / "m", [spec])


def test_md5_checks_of_the_reference_files(reference_dir, tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    shutil.copy(reference_dir / SYMBOL_FILE, folder)
    shutil.copy(reference_dir / GRIDS_FILE, folder)
    report = inspect_folder(folder)
    checks = {f.name: f for f in report.files}
    assert checks[SYMBOL_FILE].official and checks[SYMBOL_FILE].md5 == "f1ea8e5e12c29b074626d85f109cc903"
    assert checks[GRIDS_FILE].official and checks[GRIDS_FILE].md5 == "1228c937dafe828f636f056f5099bf78"
    assert not checks[PARAMS_FILE].present and not report.complete and not report.verified
    with open(folder / GRIDS_FILE, "a") as f:
        f.write("\n")  # one byte more
    assert not {f.name: f for f in inspect_folder(folder).files}[GRIDS_FILE].official


def test_import_refuses_files_that_are_not_the_published_ones(tiny_model_dir, tmp_path):
    source = tmp_path / "from-a-friend"
    source.mkdir()
    for name in MODEL_FILES:
        shutil.copy(tiny_model_dir / name, source)  # no untrained marker: claims to be the real thing
    target = tmp_path / "store"
    with pytest.raises(StoreError, match="differ from the published LocationNet files"):
        import_model(source, target)
    assert not target.exists()


def test_import_replaces_an_existing_model_atomically(tiny_model_dir, tmp_path):
    target = tmp_path / "store"
    import_model(tiny_model_dir, target)
    report = import_model(tiny_model_dir, target)
    assert report.complete and report.untrained
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]


def test_model_folder_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_MODEL_DIR, raising=False)
    assert resolve_model_dir(None) == default_model_dir()
    assert default_model_dir().parts[-3:] == ("GeoGuess", "models", "locationnet")
    monkeypatch.setenv(ENV_MODEL_DIR, str(tmp_path / "env"))
    assert resolve_model_dir(None) == tmp_path / "env"
    assert resolve_model_dir(tmp_path / "flag") == tmp_path / "flag"
