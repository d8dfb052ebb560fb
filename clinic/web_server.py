"""Serves web/ (the chat widget and the demo clinic site) over HTTP: `python -m clinic.web_server --port 8080`.

A small static file server (the standard library's ThreadingHTTPServer) with sane headers: explicit
content types, `X-Content-Type-Options: nosniff`, no directory listings, nothing outside web/ and no
hidden files. In HTML pages the placeholder {{ASSISTANT_URL}} is replaced by the assistant's address
(`--assistant-url`, default http://RASA_HOST:RASA_PORT), so the demo site talks to whichever assistant
runs beside it; HTML pages also get a strict Content-Security-Policy, which shows that the widget needs
no inline scripts or styles.
"""
import argparse
import html
import sys
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from typing import List, Optional
from urllib.parse import urlsplit

from clinic import settings as clinic_settings
from clinic.settings import PROJECT_ROOT

WEB_ROOT = PROJECT_ROOT / "web"
ASSISTANT_URL_PLACEHOLDER = b"{{ASSISTANT_URL}}"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
}


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class WebHandler(SimpleHTTPRequestHandler):
    """Static files from web/ only; `/` goes to the demo site."""

    server_version = "clinic-web"
    sys_version = ""
    extensions_map = {**CONTENT_TYPES, "": "application/octet-stream"}

    def __init__(self, *args, directory: str, assistant_url: str, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.assistant_url = assistant_url
        super().__init__(*args, directory=directory, **kwargs)

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "strict-origin-when-cross-origin")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def _inside_root(self, path: Path) -> bool:
        root = Path(self.directory).resolve()
        try:
            resolved = path.resolve()
        except OSError:
            return False
        if resolved != root and root not in resolved.parents:
            return False  # a symbolic link pointing out of web/
        return not any(part.startswith(".") for part in resolved.relative_to(root).parts)

    def send_head(self):  # type: ignore[no-untyped-def]
        if self.path.split("?", 1)[0] == "/":
            self.send_response(HTTPStatus.FOUND)
            self.send_header("Location", "/demo/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        path = Path(self.translate_path(self.path))
        if not self._inside_root(path):
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        if path.is_dir():
            if not (path / "index.html").is_file():
                self.send_error(HTTPStatus.NOT_FOUND, "File not found")  # never list a folder
                return None
            if not self.path.split("?", 1)[0].endswith("/"):
                return super().send_head()  # redirects to the address with a trailing slash
            return self._send_page(path / "index.html")
        if path.suffix == ".html" and path.is_file():
            return self._send_page(path)
        return super().send_head()

    def _send_page(self, path: Path) -> BytesIO:
        """An HTML page with the assistant's address filled in and a strict Content-Security-Policy."""
        body = path.read_bytes().replace(
            ASSISTANT_URL_PLACEHOLDER, html.escape(self.assistant_url, quote=True).encode()
        )
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", CONTENT_TYPES[".html"])
        self.send_header("Content-Length", str(len(body)))
        self.send_header(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self' {origin_of(self.assistant_url)}; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        )
        self.end_headers()
        return BytesIO(body)

    def list_directory(self, path):  # type: ignore[no-untyped-def]
        self.send_error(HTTPStatus.NOT_FOUND, "File not found")
        return None

    def log_message(self, format: str, *args) -> None:  # type: ignore[no-untyped-def]
        sys.stderr.write(f"{self.log_date_time_string()} {self.address_string()} {format % args}\n")


def make_server(host: str, port: int, assistant_url: str, root: Path = WEB_ROOT) -> ThreadingHTTPServer:
    handler = partial(WebHandler, directory=str(root), assistant_url=assistant_url)
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def main(argv: Optional[List[str]] = None) -> int:
    conf = clinic_settings.load()["server"]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=conf["host"], help="interface to listen on (default: RASA_HOST)")
    parser.add_argument("--port", type=int, default=int(conf["web_port"] or 8080), help="default: WEB_PORT")
    parser.add_argument(
        "--assistant-url",
        default=f"http://{conf['host']}:{conf['rasa_port']}",
        help="the assistant's address filled into the demo pages (default: http://RASA_HOST:RASA_PORT)",
    )
    args = parser.parse_args(argv)
    server = make_server(args.host, args.port, args.assistant_url)
    print(f"Serving {WEB_ROOT} at http://{args.host}:{args.port}/ (demo: /demo/)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
