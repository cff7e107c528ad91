#!/usr/bin/python3
"""SMTP sink for derpmgr's integration tests: accepts every message and stores it in a folder.

Each message becomes one file <unix-time-ns>-<n>.eml holding the raw message exactly as received
(CRLF line endings, dot-unstuffed), preceded by the envelope as header lines:

    X-Sink-Mail-From: <sender>
    X-Sink-Rcpt-To: <recipient>      (one line per recipient)

Files are written under a dot-prefixed temporary name and renamed, so a reader listing *.eml never
sees a partial message. Any AUTH (PLAIN, LOGIN) succeeds, none is required; no TLS.

Run with Debian's /usr/bin/python3, which has aiosmtpd (python3-aiosmtpd).
"""

import argparse
import asyncio
import itertools
import logging
import os
import signal
import sys
import time

from aiosmtpd.smtp import SMTP, AuthResult


class MailFolderHandler:
    """aiosmtpd handler that writes each message to its own file in one folder."""

    def __init__(self, folder):
        self.folder = folder
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        name = f"{time.time_ns()}-{next(self.counter)}.eml"
        envelope_lines = [f"X-Sink-Mail-From: {envelope.mail_from}\r\n"]
        envelope_lines += [f"X-Sink-Rcpt-To: {rcpt}\r\n" for rcpt in envelope.rcpt_tos]
        body = "".join(envelope_lines).encode("utf-8") + envelope.original_content
        temporary = os.path.join(self.folder, f".{name}.tmp")
        with open(temporary, "wb") as out:
            out.write(body)
        os.rename(temporary, os.path.join(self.folder, name))
        return "250 OK stored as " + name


def accept_any_login(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=True)


async def serve(args):
    os.makedirs(args.mail_dir, exist_ok=True)
    loop = asyncio.get_running_loop()
    handler = MailFolderHandler(args.mail_dir)

    def make_protocol():
        return SMTP(
            handler,
            hostname="derpmgr-smtp-sink",  # no getfqdn(): DNS is unreachable in the sandbox
            enable_SMTPUTF8=True,
            auth_require_tls=False,
            authenticator=accept_any_login,
            loop=loop,
        )

    server = await loop.create_server(make_protocol, host=args.host, port=args.port,
                                      reuse_address=True)
    if args.pid_file:
        temporary = args.pid_file + ".tmp"
        with open(temporary, "w") as out:
            out.write(f"{os.getpid()}\n")
        os.rename(temporary, args.pid_file)
    print(f"smtp_sink: listening on {args.host}:{args.port}, storing in {args.mail_dir}", flush=True)

    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()
    if args.pid_file:
        try:
            os.unlink(args.pid_file)
        except FileNotFoundError:
            pass
    print("smtp_sink: stopped", flush=True)


def main():
    logging.basicConfig(level=logging.WARNING, format="smtp_sink: %(levelname)s %(name)s: %(message)s")
    # aiosmtpd itself sets its deprecated Session.login_data on every successful AUTH and logs about it.
    logging.getLogger("mail.log").addFilter(
        lambda record: "login_data is deprecated" not in record.getMessage())
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int,
                        default=int(os.environ.get("DERPMGR_TEST_SMTP_PORT", "2525")))
    parser.add_argument("--mail-dir", required=True)
    parser.add_argument("--pid-file")
    args = parser.parse_args()
    try:
        asyncio.run(serve(args))
    except OSError as error:
        print(f"smtp_sink: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
