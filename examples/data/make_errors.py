#!/usr/bin/env python3
"""Writes examples/data/errors.jsonl: synthetic but realistic error lines with the remedy an
operator applied, for the demo and examples. Seeded, so the file is reproducible:
python3 examples/data/make_errors.py > examples/data/errors.jsonl"""
import json
import random

rng = random.Random(7)
ip = lambda: f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
num = lambda a, b: rng.randint(a, b)
hexid = lambda n: "".join(rng.choice("0123456789abcdef") for _ in range(n))
svc = lambda: rng.choice(["checkout", "payments", "search", "auth", "inventory", "billing"])

TEMPLATES = {
    "restart_database_pool": [
        lambda: f"psycopg2.OperationalError: could not connect to server: Connection refused. Is the server running on host {ip()} and accepting TCP/IP connections on port 5432?",
        lambda: f"HikariPool-1 - Connection is not available, request timed out after {num(3000, 30000)}ms.",
        lambda: f"[{svc()}] db pool exhausted: {num(50, 200)}/{num(50, 200)} connections in use, waited {num(1, 30)}s",
        lambda: f"데이터베이스 연결 실패: connection refused ({ip()}:5432)",
    ],
    "expand_disk": [
        lambda: f"OSError: [Errno 28] No space left on device: '/var/lib/{svc()}/cache/{hexid(8)}.tmp'",
        lambda: f"kubelet: eviction manager: node has disk pressure, {num(85, 99)}% of /var/lib/docker used",
        lambda: f"ERROR: could not extend file \"base/{num(10000, 99999)}/{num(10000, 99999)}\": No space left on device",
        lambda: f"디스크 공간 부족: /data 사용률 {num(90, 99)}%",
    ],
    "increase_memory_limit": [
        lambda: f"java.lang.OutOfMemoryError: Java heap space at com.acme.{svc()}.Cache.put(Cache.java:{num(10, 400)})",
        lambda: f"Container {svc()}-{hexid(5)} was OOMKilled (exit code 137), memory limit {num(256, 2048)}Mi",
        lambda: f"fatal error: runtime: out of memory allocating {num(1000, 90000)} bytes",
    ],
    "renew_tls_certificate": [
        lambda: f"x509: certificate has expired or is not yet valid: current time 2026-{num(1, 12):02d}-{num(1, 28):02d}T{num(0, 23):02d}:{num(0, 59):02d}:00Z is after 2026-01-01T00:00:00Z",
        lambda: f"SSL: CERTIFICATE_VERIFY_FAILED certificate verify failed: certificate has expired (_ssl.c:{num(900, 1100)})",
        lambda: f"javax.net.ssl.SSLHandshakeException: PKIX path validation failed: validity check failed for api.{svc()}.example.com",
    ],
    "fix_dns": [
        lambda: f"getaddrinfo ENOTFOUND {svc()}.internal.example.com",
        lambda: f"dial tcp: lookup {svc()}.svc.cluster.local on {ip()}:53: no such host",
        lambda: f"java.net.UnknownHostException: {svc()}-db.prod.example.com: Name or service not known",
    ],
    "rotate_credentials": [
        lambda: f"FATAL: password authentication failed for user \"{svc()}_rw\"",
        lambda: f"AccessDenied: The AWS Access Key Id AKIA{hexid(16).upper()} you provided does not exist in our records",
        lambda: f"401 Unauthorized: token expired for client {hexid(8)}-{hexid(4)}-{hexid(4)}-{hexid(4)}-{hexid(12)}",
        lambda: f"인증 실패: 사용자 {svc()} 비밀번호 오류",
    ],
    "scale_out_service": [
        lambda: f"upstream timed out (110: Connection timed out) while reading response header from upstream, upstream: \"http://{ip()}:8080/api/v1/{svc()}\"",
        lambda: f"503 Service Unavailable: {svc()} queue depth {num(1000, 9000)} exceeds limit",
        lambda: f"context deadline exceeded after {num(5, 60)}s calling {svc()}.Get",
    ],
    "back_off_rate_limit": [
        lambda: f"429 Too Many Requests: rate limit of {num(100, 1000)} req/min exceeded for key {hexid(12)}",
        lambda: f"ThrottlingException: Rate exceeded (Service: AmazonDynamoDBv2; Status Code: 400; Request ID: {hexid(32).upper()})",
    ],
    "fix_null_reference": [
        lambda: f"java.lang.NullPointerException: Cannot invoke \"String.length()\" because \"name\" is null at com.acme.{svc()}.UserService.validate(UserService.java:{num(10, 400)})",
        lambda: f"TypeError: Cannot read properties of undefined (reading '{rng.choice(['id', 'email', 'items'])}') at /app/src/{svc()}/handler.js:{num(10, 300)}:{num(1, 40)}",
        lambda: f"AttributeError: 'NoneType' object has no attribute '{rng.choice(['get', 'split', 'items'])}'",
    ],
}

rows = []
for remedy, makers in TEMPLATES.items():
    for make in makers:
        for _ in range(4):
            rows.append({"error": make(), "solution": remedy})
rng.shuffle(rows)
for r in rows:
    print(json.dumps(r, ensure_ascii=False))
