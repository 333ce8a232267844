#!/usr/bin/env python3
"""Loopback fakes for the idle measurement (BENCHMARKS.md "Idle"): a Bot API that answers getMe,
deleteWebhook, setMyCommands and getWebhookInfo at once and holds getUpdates
for its `timeout` (long polling, nothing to deliver), and a site that serves
one fixture page. Usage: fake.py TELEGRAM_PORT SITE_PORT PAGE"""
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

PAGE = open(sys.argv[3], 'rb').read()
BOT = {"id": 123456, "is_bot": True, "first_name": "Idle", "username": "idle_bot",
       "can_join_groups": True, "can_read_all_group_messages": False,
       "supports_inline_queries": False, "can_connect_to_business": False,
       "has_main_web_app": False}

class Telegram(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        n = int(self.headers.get('content-length') or 0)
        body = self.rfile.read(n) if n else b''
        method = self.path.rsplit('/', 1)[-1].lower()
        try:
            params = json.loads(body) if body else {}
        except Exception:
            params = {}
        if method == 'getme':
            result = BOT
        elif method == 'getupdates':
            time.sleep(float(params.get('timeout', 0)))
            result = []
        elif method == 'getwebhookinfo':
            result = {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        else:
            result = True
        out = json.dumps({"ok": True, "result": result}).encode()
        self.send_response(200)
        self.send_header('content-type', 'application/json')
        self.send_header('content-length', str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    do_GET = do_POST

class Site(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        self.send_response(200)
        self.send_header('content-type', 'text/html; charset=utf-8')
        self.send_header('content-length', str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

for port, handler in ((int(sys.argv[1]), Telegram), (int(sys.argv[2]), Site)):
    srv = ThreadingHTTPServer(('127.0.0.1', port), handler)
    Thread(target=srv.serve_forever, daemon=True).start()
while True:
    time.sleep(3600)
