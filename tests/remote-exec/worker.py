"""A Remote Workers API (Bots) worker for BuildGrid, for sysgen's tests.

No registry ships BuildGrid's own worker (buildbox-worker), so this one
does the same job with BuildGrid's protos: it keeps a bot session open,
takes each lease, and hands its Action to `buildbox-run` (bubblewrap:
the action sees its declared inputs and the read-only system directories
given with --ro-bind, nothing else), which stages the input root from
the CAS, runs the command and uploads the outputs; the ActionResult goes
back in the lease.

Two fix-ups on the way, for Bazel 4's REAPI v2.0 commands: buildbox-run
creates no parent directory of an `output_files` entry, so the command
runs under `/bin/sh -c 'mkdir -p …; exec "$@"'`; and it collects
`output_paths` (v2.1) only, so they are set from the files and
directories. The new Command and Action are put in the CAS.

Every action it runs is logged to --log (one line: the bot, the exit
code, outputs collected/declared, the first output); WORKER_DEBUG=1 also
prints each action's command and output to stderr.

    python worker.py --server 127.0.0.1:PORT --name w1 --buildbox-run PATH
        --workdir DIR --log FILE [--ro-bind HOST:SANDBOX]...
"""

import argparse
import hashlib
import os
import shlex
import subprocess
import sys
import tempfile
import time

import grpc
from google.protobuf import any_pb2
from buildgrid._protos.build.bazel.remote.execution.v2 import (
    remote_execution_pb2 as re_pb2,
    remote_execution_pb2_grpc as re_grpc,
)
from buildgrid._protos.google.devtools.remoteworkers.v1test2 import (
    bots_pb2,
    bots_pb2_grpc,
    worker_pb2,
)
from buildgrid._protos.google.rpc import code_pb2, status_pb2


def digest_of(data):
    return re_pb2.Digest(hash=hashlib.sha256(data).hexdigest(), size_bytes=len(data))


class Cas:
    def __init__(self, channel):
        self.cas = re_grpc.ContentAddressableStorageStub(channel)

    def read(self, digest):
        r = self.cas.BatchReadBlobs(re_pb2.BatchReadBlobsRequest(digests=[digest]))
        blob = r.responses[0]
        if blob.status.code != 0:
            raise RuntimeError(f"CAS read {digest.hash}: {blob.status.message}")
        return blob.data

    def write(self, data):
        d = digest_of(data)
        req = re_pb2.BatchUpdateBlobsRequest(
            requests=[re_pb2.BatchUpdateBlobsRequest.Request(digest=d, data=data)]
        )
        r = self.cas.BatchUpdateBlobs(req)
        if r.responses[0].status.code != 0:
            raise RuntimeError(f"CAS write: {r.responses[0].status.message}")
        return d


def with_output_dirs(cas, action):
    """The action, its command run after making its outputs' parents."""
    command = re_pb2.Command()
    command.ParseFromString(cas.read(action.command_digest))
    outputs = list(command.output_files) + list(command.output_directories) + list(command.output_paths)
    wd = command.working_directory
    parents = sorted({os.path.dirname(os.path.join(wd, o)) for o in outputs} - {""})
    dirs = sorted({os.path.join(wd, o) for o in command.output_directories})
    if not parents and not dirs:
        return action
    # The command runs in its working directory; the paths are relative to
    # the input root, which is the sandbox's root.
    mk = " ".join(shlex.quote("/" + p) for p in parents + dirs)
    script = f'mkdir -p {mk} && exec "$@"'
    # buildbox-run collects `output_paths` only (REAPI 2.1); Bazel 4 names
    # `output_files` and `output_directories` (2.0).
    if not command.output_paths:
        command.output_paths.extend(sorted(list(command.output_files) + list(command.output_directories)))
    args = list(command.arguments)
    command.ClearField("arguments")
    command.arguments.extend(["/bin/sh", "-c", script, "sh"] + args)
    new = re_pb2.Action()
    new.CopyFrom(action)
    new.command_digest.CopyFrom(cas.write(command.SerializeToString()))
    return new


def run_lease(args, cas, lease, log):
    payload = lease.payload
    action = re_pb2.Action()
    if payload.Is(re_pb2.Action.DESCRIPTOR):
        payload.Unpack(action)
    else:
        d = re_pb2.Digest()
        payload.Unpack(d)
        action.ParseFromString(cas.read(d))
    action = with_output_dirs(cas, action)
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        a_path = os.path.join(tmp, "action")
        r_path = os.path.join(tmp, "result")
        with open(a_path, "wb") as f:
            f.write(action.SerializeToString())
        cmd = [
            args.buildbox_run,
            f"--remote=http://{args.server}",
            "--disable-localcas",
            f"--action={a_path}",
            f"--action-result={r_path}",
            f"--workspace-path={tmp}",
            "--log-level=warning",
        ] + [f"--ro-bind-mount={b}" for b in args.ro_bind]
        p = subprocess.run(cmd, capture_output=True, text=True)
        result = re_pb2.ActionResult()
        if p.returncode != 0 or not os.path.exists(r_path):
            raise RuntimeError(f"buildbox-run failed ({p.returncode}): {p.stderr.strip()[-2000:]}")
        with open(r_path, "rb") as f:
            result.ParseFromString(f.read())
    command = re_pb2.Command()
    command.ParseFromString(cas.read(action.command_digest))
    first = (list(command.output_files) + list(command.output_paths) + ["?"])[0]
    if os.environ.get("WORKER_DEBUG"):
        for d in (result.stdout_digest, result.stderr_digest):
            if d.size_bytes:
                print(cas.read(d).decode(errors="replace")[-3000:], file=sys.stderr, flush=True)
        print(command, file=sys.stderr, flush=True)
    with open(log, "a") as f:
        f.write(
            f"{args.name} exit={result.exit_code} outputs={len(result.output_files)}"
            f"/{len(command.output_files) + len(command.output_paths)} {first}\n"
        )
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--buildbox-run", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--ro-bind", action="append", default=[])
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    channel = grpc.insecure_channel(args.server)
    bots = bots_pb2_grpc.BotsStub(channel)
    cas = Cas(channel)
    # BuildGrid matches a job's platform against the first device's
    # properties.
    worker = worker_pb2.Worker(
        properties=[worker_pb2.Worker.Property(key="OSFamily", value="linux")],
        devices=[
            worker_pb2.Device(
                handle=args.name,
                properties=[worker_pb2.Device.Property(key="OSFamily", value="linux")],
            )
        ],
    )
    session = bots_pb2.BotSession(bot_id=args.name, status=bots_pb2.OK, worker=worker)
    session = bots.CreateBotSession(
        bots_pb2.CreateBotSessionRequest(parent="", bot_session=session), timeout=10
    )
    print(f"{args.name}: session {session.name}", flush=True)
    while True:
        for lease in session.leases:
            if lease.state in (bots_pb2.PENDING, bots_pb2.ACTIVE) and not lease.HasField("result"):
                lease.state = bots_pb2.ACTIVE
                try:
                    result = run_lease(args, cas, lease, args.log)
                    lease.result.Pack(result)
                    lease.status.CopyFrom(status_pb2.Status(code=code_pb2.OK))
                except Exception as e:  # the action failed to run: say so
                    print(f"{args.name}: {e}", file=sys.stderr, flush=True)
                    lease.status.CopyFrom(
                        status_pb2.Status(code=code_pb2.INTERNAL, message=str(e)[:1000])
                    )
                lease.state = bots_pb2.COMPLETED
        try:
            session = bots.UpdateBotSession(
                bots_pb2.UpdateBotSessionRequest(name=session.name, bot_session=session),
                timeout=5,
            )
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
                print(f"{args.name}: {e.code()} {e.details()}", file=sys.stderr, flush=True)
                time.sleep(0.5)


if __name__ == "__main__":
    main()
