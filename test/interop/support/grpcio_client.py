# Child process: a proxyless gRPC client on gRPC C-core (Debian's python3-grpcio), the second xDS client
# nobody here wrote. Same protocol as grpc-js-xds-client.ts: one JSON command per stdin line, one JSON
# answer per line. The bootstrap comes from GRPC_XDS_BOOTSTRAP_CONFIG.
import json
import sys
import time

import grpc

channels = {}


def stub(target):
    if target not in channels:
        ch = grpc.insecure_channel("xds:///" + target)
        channels[target] = ch.unary_unary("/isthmus.test.Echo/Echo")
    return channels[target]


for line in sys.stdin:
    cmd = json.loads(line)
    servers, errors, ms = {}, {}, []
    call = stub(cmd["target"])
    md = list((cmd.get("metadata") or {}).items())
    for _ in range(cmd["count"]):
        start = time.monotonic()
        try:
            res = call(b"ping", metadata=md, timeout=cmd.get("deadlineMs", 5000) / 1000.0)
            name = json.loads(res.decode())["server"]
            servers[name] = servers.get(name, 0) + 1
        except grpc.RpcError as e:
            code = e.code().name
            errors[code] = errors.get(code, 0) + 1
        ms.append(round((time.monotonic() - start) * 1000))
    sys.stdout.write(json.dumps({"servers": servers, "errors": errors, "ms": ms}) + "\n")
    sys.stdout.flush()
