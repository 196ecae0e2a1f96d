"""ACL 1.0 interop check with PyPI `rocketmq` 0.4.4 (ctypes wrapper of rocketmq-client-cpp 1.0.1,
remoting protocol). The C++ client signs every request itself once a client has session
credentials (set_session_credentials(accessKey, secretKey, channel)).

Three cases against a broker running with aclEnable=true:
  allowed  ACL_AK/ACL_SK sends N messages to TOPIC; a push consumer started before the sends and
           a pull consumer reading every queue from offset 0 (both signing as the same account)
           each get every one of them back, and none of the refused messages below;
  badsig   the same account with a wrong secret: send_sync fails, the broker having answered
           NO_PERMISSION (16) saying the signature check failed;
  nopub    ACL_NOPUB_AK/ACL_NOPUB_SK (no PUB on TOPIC): send_sync fails, the broker having
           answered NO_PERMISSION naming that account and the missing PUB permission.
send_sync's exception does not carry the broker's answer (after its retries it says "No route
info of this topic"); the C++ client logs every answer, so the refusals are read from its log.

Env:
  NAMESRV_ADDR   name server (default 127.0.0.1:9876)
  TOPIC          an existing topic (default AclCpp; create it beforehand as an admin account:
                 a non-admin account cannot have the broker auto-create it)
  N              messages in the allowed case (default 20)
  TIMEOUT_S      overall time box (default 60)
  ACL_AK, ACL_SK               the allowed account (default cppuser / cpp-secret)
  ACL_NOPUB_AK, ACL_NOPUB_SK   the account without PUB (default cppreader / cppreader-secret)
  ACL_CHANNEL    the channel argument (sent as the OnsChannel ext field; default ALIYUN)
  PUSH_WARMUP_S  time given to the push consumer's first rebalance (default 5)
The C++ client logs to $HOME/logs/rocketmq-cpp/; HOME is redirected to $INTEROP_WORK (default a
temporary folder). Prints one `PASS cpp-acl ...` or `FAIL cpp-acl: ...` line; exit status 0 on PASS.
"""
import glob
import os
import re
import tempfile
import threading
import time

os.environ["HOME"] = os.environ.get("INTEROP_WORK") or tempfile.mkdtemp(prefix="cpp-acl-")
os.makedirs(os.environ["HOME"], exist_ok=True)

from rocketmq.client import Message, Producer, PullConsumer, PushConsumer  # noqa: E402
from rocketmq.ffi import dll  # noqa: E402

NAMESRV = os.environ.get("NAMESRV_ADDR", "127.0.0.1:9876")
TOPIC = os.environ.get("TOPIC", "AclCpp")
N = int(os.environ.get("N", "20"))
TIMEOUT_S = int(os.environ.get("TIMEOUT_S", "60"))
AK = os.environ.get("ACL_AK", "cppuser")
SK = os.environ.get("ACL_SK", "cpp-secret")
NOPUB_AK = os.environ.get("ACL_NOPUB_AK", "cppreader")
NOPUB_SK = os.environ.get("ACL_NOPUB_SK", "cppreader-secret")
CHANNEL = os.environ.get("ACL_CHANNEL", "ALIYUN")
TAG = "TagAcl"
RUN = f"{int(time.time() * 1000):x}x{os.getpid()}"
START = time.time()
DEADLINE = START + TIMEOUT_S - 3
LOGDIR = os.path.join(os.environ["HOME"], "logs").encode()

notes = []
lock = threading.Lock()


def finish(ok, text):
    took = f"({time.time() - START:.1f}s)"
    print(f"PASS cpp-acl {text} {took}" if ok else f"FAIL cpp-acl: {text} {took}", flush=True)
    os._exit(0 if ok else 1)  # skip the C++ destructors and their lingering threads


def watchdog():
    time.sleep(TIMEOUT_S)
    finish(False, f"hard timeout {TIMEOUT_S}s; so far: {'; '.join(notes) or 'nothing done'}")


threading.Thread(target=watchdog, daemon=True).start()


def text(v):
    return v.decode() if isinstance(v, bytes) else (v or "")


def producer(name, access_key, secret_key):
    # Credentials are per producer in rocketmq-client-cpp (unlike ali-ons, where they belong to
    # the client instance shared by every producer of an instance name); an instance name of
    # its own keeps each case's connections apart all the same.
    p = Producer(f"PID_acl_{name}_{RUN}", timeout=3000)
    p.set_namesrv_addr(NAMESRV)
    dll.SetProducerInstanceName(p._handle, f"acl_{name}_{RUN}".encode())
    dll.SetProducerLogPath(p._handle, LOGDIR)
    p.set_session_credentials(access_key, secret_key, CHANNEL)
    p.start()
    return p


def message(i):
    m = Message(TOPIC)
    m.set_tags(TAG)
    m.set_keys(f"acl-{RUN}-{i}")
    m.set_body(f"{RUN}|{TAG}|{i}")
    return m


class Received:
    """The indexes of this run's messages one consumer got."""

    def __init__(self):
        self.got = set()
        self.refused = []

    def add(self, m):
        parts = text(m.body).split("|")
        if len(parts) != 3 or parts[0] != RUN:
            return  # earlier runs on the same topic
        with lock:
            if parts[2].startswith("refused-"):
                self.refused.append(parts[2])
            else:
                self.got.add(parts[2])


def client_log():
    """This process's C++ client log files (the client writes them under $HOME/logs)."""
    return sorted(glob.glob(os.path.join(os.environ["HOME"], "logs", "**", f"{os.getpid()}_rocketmq-cpp.log*"),
                            recursive=True))


def log_sizes():
    return {f: os.path.getsize(f) for f in client_log()}


def log_since(sizes):
    out = []
    for f in client_log():
        with open(f, "rb") as fh:
            fh.seek(sizes.get(f, 0))
            out.append(fh.read().decode("utf-8", "replace"))
    return "".join(out)


def broker_answers(log):
    """(remark, code) of every refused send the client logged."""
    return re.findall(r"processSendResponse error remark:(.*?), error code:(-?\d+)", log)


def refused(name, access_key, secret_key, pattern, what):
    """A send that must fail, the broker having answered NO_PERMISSION with a remark matching
    `pattern`, as the client logged it ("processSendResponse error remark:..., error code:16")."""
    p = producer(name, access_key, secret_key)
    before = log_sizes()
    try:
        r = p.send_sync(message(f"refused-{name}"))
    except Exception as e:  # noqa: BLE001
        err = " ".join(str(e).split())
        answers = []
        for _ in range(30):  # the log is written by another thread
            answers = broker_answers(log_since(before))
            if answers:
                break
            time.sleep(0.1)
        match = [remark for remark, code in answers if code == "16" and re.search(pattern, remark)]
        if not match:
            raise RuntimeError(f"{what}: send failed ({err}) but the client logged no NO_PERMISSION (16) "
                               f"answer matching {pattern!r}; answers logged: {answers}")
        notes.append(f"{what} refused: code 16 \"{match[0]}\"")
        return
    raise RuntimeError(f"{what}: the send was accepted ({r.status}, {r.msg_id})")


def main():
    # The refused sends come first: the consumers below must not see them.
    refused("badsig", AK, SK + "-wrong",
            rf"signature check failed for accessKey={re.escape(AK)}\b", f"wrong secret for {AK}")
    refused("nopub", NOPUB_AK, NOPUB_SK,
            rf"accessKey={re.escape(NOPUB_AK)} has no PUB permission on topic {re.escape(TOPIC)}\b",
            f"{NOPUB_AK} without PUB")

    p = producer("ok", AK, SK)

    def send(i):
        while True:
            before = log_sizes()
            try:
                r = p.send_sync(message(i))
                if int(r.status) != 0:
                    raise RuntimeError(f"send status {r.status}")
                return
            except Exception as e:  # noqa: BLE001
                time.sleep(0.3)  # let the client log the broker's answer
                answers = broker_answers(log_since(before))
                if time.time() > DEADLINE or any(code == "16" for _, code in answers):
                    raise RuntimeError(f"allowed account {AK}: send #{i} failed: {' '.join(str(e).split())}"
                                       f"; broker answers logged by the client: {sorted(set(answers))}")
                time.sleep(1)

    # A new push group starts at the last offset (the C API cannot change that): one warm-up send
    # makes the route known, then the consumer gets its queues before the real sends.
    send("warmup")
    pushed = Received()
    push = PushConsumer(f"GID_acl_push_{RUN}")
    push.set_namesrv_addr(NAMESRV)
    push.set_instance_name(f"acl_push_{RUN}")
    dll.SetPushConsumerLogPath(push._handle, LOGDIR)
    push.set_session_credentials(AK, SK, CHANNEL)
    push.subscribe(TOPIC, pushed.add, TAG)
    push.start()
    time.sleep(float(os.environ.get("PUSH_WARMUP_S", "5")))

    for i in range(N):
        send(str(i))
    notes.append(f"{AK} sent {N}")

    pulled = Received()
    pull = PullConsumer(f"GID_acl_pull_{RUN}")
    pull.set_namesrv_addr(NAMESRV)
    dll.SetPullConsumerLogPath(pull._handle, LOGDIR)
    pull.set_session_credentials(AK, SK, CHANNEL)
    pull.start()
    pull_error = None
    def pushed_count():
        with lock:
            return len(pushed.got - {"warmup"})

    while time.time() < DEADLINE and not (len(pulled.got) >= N + 1 and pushed_count() >= N):
        try:
            for m in pull.pull(TOPIC, TAG, 32):
                pulled.add(m)
        except Exception as e:  # noqa: BLE001
            pull_error = " ".join(str(e).split())
        time.sleep(0.5)
    time.sleep(1)  # stray deliveries
    want = N + 1  # with the warm-up message
    if len(pulled.got) != want:
        raise RuntimeError(f"allowed account {AK}: pull consumer got {len(pulled.got)}/{want}"
                           + (f"; last pull error: {pull_error}" if pull_error else ""))
    if pushed_count() != N:
        raise RuntimeError(f"allowed account {AK}: push consumer got {pushed_count()}/{N}")
    if pulled.refused or pushed.refused:
        raise RuntimeError(f"refused messages were stored: {sorted(set(pulled.refused + pushed.refused))}")
    notes.append(f"push consumer got {N}, pull consumer got {want} (with the warm-up), none of the refused")
    finish(True, "; ".join(notes[2:] + notes[:2]))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001
        finish(False, f"{e}; so far: {'; '.join(notes) or 'nothing done'}")
