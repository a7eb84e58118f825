"""Where an upload's CPU goes: each piece of ours measured alone, next to a whole upload and curl.

A 1 GiB multipart upload at the defaults (8 MiB x 4, CRC32C) does, per byte: one ``preadv``
from the page cache into a part buffer, one CRC32C pass, and one ``sendall`` into the socket;
and per part: one UploadPart request, sent directly (``transfer/direct.py``: our pre-signature,
100-continue, response) or, on the botocore path, one ``upload_part`` call (serialize, sign,
send, parse); both per-part costs are measured. This script
times each piece on its own in this process (CPU seconds, user+sys, which the machine's load
moves far less than wall time), then a whole ``upload_file`` and one ``curl`` PUT in fresh
processes, all against the discard sink (``tests/support/discard_s3.py``). What is left of the
whole upload after the pieces is threads, locks and the GIL.

The last line is the figure:
``upload 1 GiB CPU: ours T s = read R + crc32c C + send S + per-part P (128 direct calls; botocore's
would be B) + rest X; curl U s; ours/curl N.Nx CPU``.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import transfer_common as common  # noqa: E402
from transfer_common import BUCKET, MiB, PART_SIZE  # noqa: E402

sys.path.insert(0, str(common.ROOT))


def _cpu() -> float:
    times = os.times()
    return times.user + times.system


def _children_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system


def read_cost(path: str, size: int) -> float:
    from securestore.transfer.upload import _read_exactly

    buffer = bytearray(PART_SIZE)
    view = memoryview(buffer)
    with open(path, "rb") as handle:
        started = _cpu()
        for offset in range(0, size, PART_SIZE):
            _read_exactly(handle.fileno(), view[: min(PART_SIZE, size - offset)], offset)
        return _cpu() - started


def crc_cost(size: int) -> float:
    from securestore.transfer.checksums import get_algorithm

    algorithm = get_algorithm("crc32c")
    buffer = bytearray(os.urandom(PART_SIZE))
    started = _cpu()
    for _ in range(size // PART_SIZE):
        algorithm.digest(buffer)
    return _cpu() - started


def send_cost(endpoint: str, size: int) -> float:
    """One plain PUT of ``size`` bytes in the blocks our uploader sends, over http.client."""
    from securestore.transfer.upload import SEND_BLOCK_SIZE

    buffer = memoryview(bytearray(os.urandom(PART_SIZE)))
    host, port = endpoint.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port))
    started = _cpu()
    connection.putrequest("PUT", f"/{BUCKET}/send-cost.bin")
    connection.putheader("Content-Length", str(size))
    connection.endheaders()
    sent = 0
    while sent < size:
        for start in range(0, PART_SIZE, SEND_BLOCK_SIZE):
            connection.send(buffer[start:start + SEND_BLOCK_SIZE])
        sent += PART_SIZE
    connection.getresponse().read()
    cost = _cpu() - started
    connection.close()
    return cost


def botocore_cost(endpoint: str, calls: int) -> float:
    """``calls`` UploadPart calls of one byte each: the per-part cost that is not the bytes."""
    from securestore.transfer import make_s3_client
    from securestore.transfer.checksums import get_algorithm
    from securestore.transfer.upload import BlockBody

    client = make_s3_client(common.session(), region_name="us-east-1", endpoint_url=endpoint)
    upload_id = client.create_multipart_upload(Bucket=BUCKET, Key="calls.bin")["UploadId"]
    body = bytearray(b"x")
    checksum = get_algorithm("crc32c").encode(get_algorithm("crc32c").digest(body))

    def call(number: int) -> None:
        client.upload_part(Bucket=BUCKET, Key="calls.bin", UploadId=upload_id, PartNumber=number,
                           Body=BlockBody(memoryview(body)), ChecksumAlgorithm="CRC32C",
                           ChecksumCRC32C=checksum)

    call(1)  # first call loads the service model and endpoint rules
    started = _cpu()
    for number in range(calls):
        call(number + 1)
    return _cpu() - started


def direct_cost(endpoint: str, calls: int) -> float:
    """``calls`` UploadPart requests of one byte each as ours sends them by default
    (``transfer/direct.py``: our SigV4 pre-signature, 100-continue, response): the per-part
    cost that is not the bytes, on the path that replaced botocore's."""
    from securestore.transfer import make_s3_client
    from securestore.transfer.checksums import get_algorithm
    from securestore.transfer.direct import DirectParts

    client = make_s3_client(common.session(), region_name="us-east-1", endpoint_url=endpoint)
    upload_id = client.create_multipart_upload(Bucket=BUCKET, Key="direct.bin")["UploadId"]
    sender = DirectParts.for_upload(client, BUCKET, "direct.bin", upload_id, "ChecksumCRC32C")
    if sender is None:
        raise SystemExit("the transfer would not send parts directly to this sink")
    body = memoryview(bytearray(b"x"))
    checksum = get_algorithm("crc32c").encode(get_algorithm("crc32c").digest(body))
    sender.upload_part(1, body, checksum)
    started = _cpu()
    for number in range(calls):
        sender.upload_part(number + 1, body, checksum)
    cost = _cpu() - started
    sender.close()
    return cost


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3, help="repetitions of each piece (median)")
    parser.add_argument("--quick", action="store_true", help=f"CI: {common.QUICK_SIZE_MIB} MiB, one round")
    args = parser.parse_args()
    common.apply_quick(args)
    size = args.size_mib * MiB
    parts = -(-size // PART_SIZE)
    print(f"upload {args.size_mib} MiB CPU breakdown, {args.rounds} rounds, load average "
          f"{common.load_average()}", flush=True)
    with common.payload_file(size) as path:
        upload_script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "upload.py")
        with common.Sink() as sink:
            pieces: dict[str, list[float]] = {"read": [], "crc32c": [], "send": [], "direct": [],
                                              "botocore": [], "ours": [], "curl": []}
            for _ in range(args.rounds):
                pieces["read"].append(read_cost(path, size))
                pieces["crc32c"].append(crc_cost(size))
                pieces["send"].append(send_cost(sink.endpoint, size))
                pieces["direct"].append(direct_cost(sink.endpoint, parts))
                pieces["botocore"].append(botocore_cost(sink.endpoint, parts))
                ours = common.run_child(upload_script, "ours", sink.endpoint, "--file", path)
                if ours["checksum"] != common.composite_crc32c(path, ours["part_size"]):
                    raise SystemExit(f"MISMATCH: ours sent checksum {ours['checksum']} for other bytes")
                pieces["ours"].append(ours["cpu_seconds"])
                before = _children_cpu()
                common.curl_put(path, sink.endpoint)
                pieces["curl"].append(_children_cpu() - before)
    median = {name: statistics.median(values) for name, values in pieces.items()}
    for name, values in pieces.items():
        print(f"{name:>9}: median {median[name]:.3f} s, rounds {[round(v, 3) for v in values]}")
    rest = median["ours"] - median["read"] - median["crc32c"] - median["send"] - median["direct"]
    print(f"per-part cost: {median['direct'] * 1e3 / parts:.2f} ms sent directly (ours), "
          f"{median['botocore'] * 1e3 / parts:.2f} ms through botocore's upload_part")
    label = f"{args.size_mib // 1024} GiB" if args.size_mib % 1024 == 0 else f"{args.size_mib} MiB"
    print(f"upload {label} CPU: ours {median['ours']:.2f} s = read {median['read']:.2f} + crc32c "
          f"{median['crc32c']:.2f} + send {median['send']:.2f} + per-part {median['direct']:.2f} "
          f"({parts} direct calls; botocore's would be {median['botocore']:.2f}) + rest {rest:.2f}; "
          f"curl {median['curl']:.2f} s; "
          f"ours/curl {median['ours'] / median['curl']:.1f}x CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
