"""What any Python uploader could reach on this sink: parts sent without botocore, next to ours and curl.

Issue 17 asked for uploads at 1.5x the HTTPS-equivalent boto3 and 0.8 of a curl PUT. Ours and
that boto3 do the same work through botocore (``bench/upload.py``: 1.0x). The one change left
would be sending UploadPart outside botocore. Before paying for it (no proxies, CA settings,
parsed errors for the retry classification or ``Stubber``), this script measures its best case:
``raw``, in a fresh process, 4 threads with one persistent ``http.client`` connection each;
per 8 MiB part one ``preadv`` into a reused buffer, one CRC32C pass, one PUT with the
checksum header whose body goes out in 256 KiB ``sendall`` blocks, one response read. No
signing, no journal, no retries, no progress, no verification: a ceiling, not a client (a
real one would add a SigV4 signature per part, ~40 µs with ``securestore.s3presign``).

Measured first to decide whether ``transfer/direct.py`` was worth building (ours then sent its
parts through botocore: raw 1.57x ours); ours now sends its parts that way, so ``ours/raw`` is
what signing, 100-continue, the journal, progress and verification cost on top of the ceiling.
It runs ``raw``, ``ours`` (``securestore.transfer`` at its defaults, as in ``bench/upload.py``)
and one ``curl`` PUT, interleaved against the discard sink (``tests/support/discard_s3.py``),
each in a fresh process. The last line is the figure:
``upload ceiling 1 GiB: raw parts X MB/s, ours Y MB/s, curl L MB/s; raw/curl R, ours/raw Q``.
"""

from __future__ import annotations

import argparse
import http.client
import os
import queue
import statistics
import sys
import threading
import time
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import transfer_common as common  # noqa: E402
from transfer_common import BUCKET, MiB, PART_SIZE  # noqa: E402

CONCURRENCY = 4
SEND_BLOCK = 256 * 1024


def _raw_upload(path: str, endpoint: str) -> None:
    """Send every part of ``path`` as UploadPart PUTs over raw connections (see the docstring)."""
    from securestore.transfer.checksums import get_algorithm

    crc = get_algorithm("crc32c")
    size = os.path.getsize(path)
    parts: "queue.SimpleQueue[int]" = queue.SimpleQueue()
    for number, _ in enumerate(range(0, size, PART_SIZE), start=1):
        parts.put(number)
    address = urlsplit(endpoint)
    failures: list[BaseException] = []
    fd = os.open(path, os.O_RDONLY)

    def worker() -> None:
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        buffer = bytearray(PART_SIZE)
        try:
            while True:
                try:
                    number = parts.get_nowait()
                except queue.Empty:
                    return
                offset = (number - 1) * PART_SIZE
                view = memoryview(buffer)[: min(PART_SIZE, size - offset)]
                if os.preadv(fd, [view], offset) != len(view):
                    raise OSError(f"short read at {offset}")
                checksum = crc.encode(crc.digest(view))
                connection.putrequest("PUT", f"/{BUCKET}/raw.bin?partNumber={number}&uploadId=raw")
                connection.putheader("Content-Length", str(len(view)))
                connection.putheader("x-amz-checksum-crc32c", checksum)
                connection.endheaders()
                for start in range(0, len(view), SEND_BLOCK):
                    connection.sock.sendall(view[start:start + SEND_BLOCK])
                response = connection.getresponse()
                response.read()
                if response.status != 200 or response.getheader("x-amz-checksum-crc32c") != checksum:
                    raise OSError(f"part {number}: HTTP {response.status}")
        except BaseException as error:  # noqa: BLE001 - reported by the caller
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    os.close(fd)
    if failures:
        raise failures[0]


def _child(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--file", required=True)
    args = parser.parse_args(argv)
    if args.child == "raw":
        cpu_before, started = common.cpu_seconds(), time.perf_counter()
        _raw_upload(args.file, args.endpoint)
    else:
        from securestore.transfer import TransferConfig, make_s3_client, upload_file

        client = make_s3_client(common.session(), region_name="us-east-1", endpoint_url=args.endpoint)
        state = os.path.join(os.path.dirname(args.file), f"journal-{os.getpid()}.json")
        cpu_before, started = common.cpu_seconds(), time.perf_counter()
        result = upload_file(client, args.file, BUCKET, "ours.bin", config=TransferConfig(), state_path=state)
        common.child_report(time.perf_counter() - started, common.cpu_seconds() - cpu_before,
                            checksum=result.checksum, part_size=result.part_size)
        return 0
    common.child_report(time.perf_counter() - started, common.cpu_seconds() - cpu_before)
    return 0


def main() -> int:
    if "--child" in sys.argv:
        return _child(sys.argv[1:])
    parser = common.transfer_parser(__doc__, "uploads")
    args = parser.parse_args()
    common.apply_quick(args)
    size = args.size_mib * MiB
    clients = ("raw", "ours", "curl")
    print(f"upload ceiling {args.size_mib} MiB, {args.rounds} rounds, load average {common.load_average()}",
          flush=True)
    with common.payload_file(size) as path:
        with common.Sink() as sink:
            script = os.path.abspath(__file__)

            def measure(kind: str) -> dict:
                if kind == "curl":
                    return common.curl_put(path, sink.endpoint)
                return common.run_child(script, kind, sink.endpoint, "--file", path)

            for kind in () if args.quick else clients:  # warm the page cache and the interpreter's caches
                measure(kind)
            results = common.interleave(args.rounds, measure, clients)
            # raw checks each part's echoed CRC32C itself; ours' whole-object one against the file's
            first = results["ours"][0]
            expected = common.composite_crc32c(path, first["part_size"])
            if first["checksum"] != expected:
                print(f"MISMATCH: ours sent {first['checksum']}, the file's is {expected}", file=sys.stderr)
                return 1
            print(f"identical checksum: ours {expected} = the file's composite CRC32C")
    medians = common.summarize(size, results)
    cpu = {kind: statistics.median(f["cpu_seconds"] for f in results[kind]) for kind in ("raw", "ours")}
    print(f"client CPU per upload (median): raw {cpu['raw']:.2f} s, ours {cpu['ours']:.2f} s")
    label = f"{args.size_mib // 1024} GiB" if args.size_mib % 1024 == 0 else f"{args.size_mib} MiB"
    raw, ours, curl = medians["raw"], medians["ours"], medians["curl"]
    print(f"upload ceiling {label}: raw parts {raw:.0f} MB/s, ours {ours:.0f} MB/s, curl {curl:.0f} MB/s; "
          f"raw/curl {raw / curl:.2f}, ours/raw {ours / raw:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
