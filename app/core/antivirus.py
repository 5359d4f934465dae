"""Optional virus scan of uploads by a ClamAV daemon (clamd) when CLAMAV_SOCKET names its unix socket.

clamd's INSTREAM command, by hand (the protocol is four lines): `zINSTREAM\\0`, then chunks each preceded by
its length (4 bytes, network order), a zero-length chunk to end, and one NUL-terminated reply:
`stream: OK`, `stream: <signature> FOUND` or `<message> ERROR` (e.g. `INSTREAM size limit exceeded`)."""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

CHUNK = 64 * 1024


class ScannerUnavailable(RuntimeError):
    """The daemon could not be reached or answered an error: the upload is refused (fail closed)."""


@dataclass(frozen=True)
class Verdict:
    clean: bool
    signature: str | None = None


def scan_bytes(data: bytes, socket_path: str, *, timeout: float = 30.0) -> Verdict:
    """Streams `data` to clamd over its unix socket and reads its verdict."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(socket_path)
            conn.sendall(b"zINSTREAM\0")
            view = memoryview(data)
            try:
                for start in range(0, len(view), CHUNK):
                    chunk = view[start:start + CHUNK]
                    conn.sendall(struct.pack("!L", len(chunk)) + chunk)
                conn.sendall(struct.pack("!L", 0))
            except (BrokenPipeError, ConnectionResetError):
                pass  # clamd stops reading when it refuses the stream (StreamMaxLength): its reply says why
            reply = b""
            while not reply.endswith(b"\0"):
                try:
                    part = conn.recv(4096)
                except ConnectionResetError:
                    break
                if not part:
                    break
                reply += part
    except OSError as error:
        raise ScannerUnavailable(f"antivirus injoignable ({socket_path}) : {error}") from error
    answer = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
    if answer.endswith(": OK"):
        return Verdict(clean=True)
    if answer.endswith(" FOUND"):
        return Verdict(clean=False, signature=answer.removeprefix("stream:").removesuffix("FOUND").strip())
    raise ScannerUnavailable(f"réponse de l'antivirus : {answer or 'aucune'}")
