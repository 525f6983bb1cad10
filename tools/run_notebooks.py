#!/usr/bin/python3
"""Execute notebooks with the Deno kernel; keep reading a cell's iopub
messages for a short grace period after 'idle' (Deno can publish the output
just after it). Exit 1 if any cell raised."""
import argparse, os, queue, sys, time
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionComplete, CellExecutionError
from nbclient.util import ensure_async

GRACE_S = float(os.environ.get("NB_IOPUB_GRACE", "0.3"))

class GraceClient(NotebookClient):
    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        idle_at = None
        while True:
            timeout = None
            if idle_at is not None:
                timeout = idle_at + GRACE_S - time.monotonic()
                if timeout <= 0:
                    return
            try:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=timeout))
            except queue.Empty:
                return
            if msg["parent_header"].get("msg_id") != parent_msg_id:
                continue
            try:
                self.process_message(msg, cell, cell_index)
            except CellExecutionComplete:
                idle_at = time.monotonic()

def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="out/notebooks")
    ap.add_argument("--timeout", type=int, default=300)
    ap.add_argument("--kernel", default="deno")
    ap.add_argument("notebooks", nargs="+")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    passed = failed = 0
    for path in a.notebooks:
        nb = nbformat.read(path, as_version=4)
        client = GraceClient(nb, timeout=a.timeout, startup_timeout=120, kernel_name=a.kernel,
                             resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}})
        t0 = time.monotonic()
        try:
            client.execute(); passed += 1; status = "ok"
        except CellExecutionError as e:
            failed += 1; status = "FAILED\n" + str(e)[-2000:]
        nbformat.write(nb, os.path.join(a.out, os.path.basename(path)))
        print(f"{path}: {status} ({time.monotonic() - t0:.1f}s)", flush=True)
    print(f"notebooks -> passed={passed} failed={failed}", flush=True)
    return 1 if failed else 0

if __name__ == "__main__":
    sys.exit(main())
