"""Conformance checks with the official Apache RocketMQ 5.x Python client (PyPI
rocketmq-python-client 5.1.2) against a broker's gRPC endpoint (apache.rocketmq.v2.MessagingService).

    python checks.py [options] [CHECK ...]        (no CHECK: all of them, in this order)

  py-fifo              FIFO: one message group, a SimpleConsumer in an orderly group gets every
                       message once, in the order sent.
  py-delay             delay: delivery timestamps ~2 s ahead; every message arrives, none before
                       its delivery timestamp.
  py-transaction       transactions: one committed, one rolled back, one left UNKNOWN that the
                       TransactionChecker commits on the broker's check-back; a consumer gets
                       exactly the committed and the checked-back ones (markers sent last, one
                       per queue, show the rolled-back one never arrives).
  py-simple-invisible  SimpleConsumer: change_invisible_duration (shorter) on an unacked message
                       brings it back as attempt 2 before its first invisible time ran out; a
                       message left unacked comes back as attempt 2 after its invisible time.
  py-push-filter       PushConsumer with tag TagA on a topic with TagA and TagB messages: every
                       TagA consumed, no TagB delivered (TagA markers sent last, one per queue).

Options (env in brackets): --endpoint host:port [PY5_ENDPOINT, default 127.0.0.1:8081];
--fifo-topic, --fifo-group, --delay-topic, --tx-topic, --simple-topic, --push-topic [PY5_FIFO_TOPIC,
PY5_FIFO_GROUP, ...]: topics (and the FIFO check's orderly consumer group) must exist beforehand,
the topics with no message.type attribute or the matching one; --timeout seconds per check
[PY5_CHECK_TIMEOUT, default 60]. Other groups are made up per run.

Prints one line per check, "PASS <name>: <facts>" or "FAIL <name>: <what was wrong>"; the exit
code is the number of failures. The client logs to $HOME/logs/rocketmq_python/; HOME is
redirected to INTEROP_WORK (or a temporary folder), whose path FAIL lines name.
"""
import argparse
import math
import os
import sys
import tempfile
import threading
import time

CHECKS = ("py-fifo", "py-delay", "py-transaction", "py-simple-invisible", "py-push-filter")


def parse_args():
    env = os.environ.get
    p = argparse.ArgumentParser(description="RocketMQ 5.x Python client checks")
    p.add_argument("--endpoint", default=env("PY5_ENDPOINT", "127.0.0.1:8081"))
    p.add_argument("--fifo-topic", default=env("PY5_FIFO_TOPIC", "Py5Fifo"))
    p.add_argument("--fifo-group", default=env("PY5_FIFO_GROUP", ""))
    p.add_argument("--delay-topic", default=env("PY5_DELAY_TOPIC", "Py5Delay"))
    p.add_argument("--tx-topic", default=env("PY5_TX_TOPIC", "Py5Tx"))
    p.add_argument("--simple-topic", default=env("PY5_SIMPLE_TOPIC", "Py5Simple"))
    p.add_argument("--push-topic", default=env("PY5_PUSH_TOPIC", "Py5Push"))
    p.add_argument("--timeout", type=float, default=float(env("PY5_CHECK_TIMEOUT", "60")))
    p.add_argument("checks", nargs="*", metavar="CHECK", help=" ".join(CHECKS))
    a = p.parse_args()
    unknown = [c for c in a.checks if c not in CHECKS]
    if unknown:
        p.error(f"unknown check(s) {unknown}; known: {', '.join(CHECKS)}")
    a.checks = a.checks or list(CHECKS)
    return a


ARGS = parse_args()
# The client configures its file log under ~ when imported: redirect HOME first.
os.environ["HOME"] = os.environ.get("INTEROP_WORK") or tempfile.mkdtemp(prefix="rmq-py5-")
LOG = os.path.join(os.environ["HOME"], "logs", "rocketmq_python", "rocketmq_client.log")

from rocketmq import (ClientConfiguration, ConsumeResult,  # noqa: E402
                      Credentials, FilterExpression, Message, MessageListener,
                      Producer, PushConsumer, SimpleConsumer,
                      TransactionChecker, TransactionResolution)

RUN = f"{int(time.time() * 1000):x}{os.getpid()}"
SLACK_S = 0.1        # clock slack for "not before its delivery timestamp" (same machine)
TIMING_SLACK_S = 0.2  # slack for invisible-time lower bounds (measured from the client's receive)
AWAIT_S = 5           # SimpleConsumer long polling
TYPES = {1: "NORMAL", 2: "FIFO", 3: "DELAY", 4: "TRANSACTION"}

out_lock = threading.Lock()
reported = {}


class Fail(Exception):
    pass


def report(name, ok, text):
    with out_lock:
        if name in reported:
            return
        reported[name] = ok
        print(f"{'PASS' if ok else 'FAIL'} {name}: {text}", flush=True)


def failures():
    return sum(1 for ok in reported.values() if not ok)


def watchdog(total):
    time.sleep(total)
    for name in ARGS.checks:
        report(name, False, f"not finished within the overall time box of {total:.0f}s (client log: {LOG})")
    os._exit(failures())


def log_size():
    try:
        return os.path.getsize(LOG)
    except OSError:
        return 0


def first_client_errors(since, limit=2):
    """The first ERROR lines the client logged since byte offset `since`."""
    try:
        with open(LOG, "rb") as f:
            f.seek(since)
            lines = [ln.decode(errors="replace").strip() for ln in f]
    except OSError:
        return ""
    errs = [ln for ln in lines if "[ERROR]" in ln or "[WARNING]" in ln][:limit]
    return "; ".join(e[:300] for e in errs)


def body_of(m):
    try:
        return m.body.decode()
    except Exception:  # noqa: BLE001
        return repr(m.body)


def type_name(m):
    return TYPES.get(m.message_type, str(m.message_type))


class Ctx:
    """Per-check state: clients to shut down, a deadline, and progress for timeout reports."""

    def __init__(self, name, timeout):
        self.name = name
        self.deadline = time.time() + timeout
        self.clients = []
        self.progress = "starting"
        self.errors = []
        self.since = log_size()

    def client_log_line(self, needle):
        """The first line with `needle` the client logged since this check started, else None."""
        try:
            with open(LOG, "rb") as f:
                f.seek(self.since)
                for ln in f:
                    ln = ln.decode(errors="replace").strip()
                    if needle in ln:
                        return ln[:400]
        except OSError:
            pass
        return None

    def start(self, client):
        self.clients.append(client)
        client.startup()
        return client

    def left(self):
        return self.deadline - time.time()

    def wait_until(self, cond, what, step=0.05):
        while not cond():
            if time.time() > self.deadline:
                raise Fail(f"timed out waiting for {what}; {self.progress}")
            time.sleep(step)

    def receive(self, consumer, batch, invisible_s):
        try:
            return consumer.receive(batch, invisible_s) or []
        except Exception as e:  # noqa: BLE001
            self.errors.append(f"receive: {e!r}")
            if len(self.errors) > 20:
                raise Fail(f"receive keeps failing: {self.errors[0]}; {self.progress}")
            time.sleep(0.2)
            return []


def config():
    return ClientConfiguration(ARGS.endpoint, Credentials(), request_timeout=5)


def new_message(topic, body, tag=None):
    m = Message()
    m.topic = topic
    m.body = body.encode()
    if tag:
        m.tag = tag
    m.keys = f"k-{body.replace('|', '-')}"
    return m


def queue_id(receipt):
    return receipt.message_queue.message_queue0().id


def send_markers(producer, topic, prefix, tag=None):
    """Normal messages until every writable queue got one: the producer picks queues round robin,
    so the first repeated queue id means all were covered. Returns their bodies."""
    bodies, seen = [], set()
    for i in range(64):
        body = f"{RUN}|{prefix}|{i}"
        q = queue_id(producer.send(new_message(topic, body, tag)))
        if q in seen:
            break
        seen.add(q)
        bodies.append(body)
    return bodies


def ours(m):
    return body_of(m).startswith(RUN + "|")


# ---------------------------------------------------------------------------------------------

def check_fifo(ctx):
    topic, n = ARGS.fifo_topic, 10
    group = ARGS.fifo_group or f"GID-py5-fifo-{RUN}"
    mgroup = f"mg-{RUN}"
    consumer = ctx.start(SimpleConsumer(config(), group, {topic: FilterExpression()}, await_duration=AWAIT_S))
    producer = ctx.start(Producer(config(), (topic,)))
    sent, queues = [], set()
    for i in range(n):
        body = f"{RUN}|fifo|{i}"
        m = new_message(topic, body, "TagF")
        m.message_group = mgroup
        queues.add(queue_id(producer.send(m)))
        sent.append(body)
    order, groups, types = [], set(), set()
    while len(set(order)) < n and ctx.left() > 0:
        ctx.progress = f"sent {n} in group {mgroup} to queue(s) {sorted(queues)}, received {order and [b.split('|')[2] for b in order]}"
        for m in ctx.receive(consumer, 4, 15):
            consumer.ack(m)
            if not ours(m):
                continue
            order.append(body_of(m))
            groups.add(m.message_group)
            types.add(type_name(m))
    got = [b.split("|")[2] for b in order]
    if len(set(order)) < n:
        raise Fail(f"received {len(set(order))} of {n} before the deadline, order {got}")
    if order != sent:
        raise Fail(f"order received {got}, sent 0..{n - 1} (duplicates: {len(order) - len(set(order))})")
    if groups != {mgroup}:
        raise Fail(f"received message_group {groups}, sent {mgroup}")
    if len(queues) != 1:
        raise Fail(f"one message group was sent to queues {sorted(queues)}")
    return f"{n} messages of group {mgroup} on queue {queues.pop()}, received each once in the sent order (type {'/'.join(sorted(types))}, consumer group {group})"


def check_delay(ctx):
    topic, n = ARGS.delay_topic, 3
    group = f"GID-py5-delay-{RUN}"
    consumer = ctx.start(SimpleConsumer(config(), group, {topic: FilterExpression()}, await_duration=AWAIT_S))
    producer = ctx.start(Producer(config(), (topic,)))
    # The client sends delivery_timestamp as whole seconds. Sent when the next whole second 2 s
    # ahead is 2.618..2.624 s away: a broker that rounds delivery times to quarter or half
    # seconds (up to 125 ms) shows up as early every time rather than in some runs only.
    while True:
        now = time.time()
        base = math.ceil(now + 2)
        if 2.618 <= base - now <= 2.624:
            break
        time.sleep(0.001)
    wanted = {}
    for i in range(n):
        body = f"{RUN}|delay|{i}"
        m = new_message(topic, body)
        m.delivery_timestamp = base + i
        producer.send(m)
        wanted[body] = (base + i) * 1000
    sent_at = time.time()
    got = {}  # body -> (client receive ms, broker-reported delivery ms, type, attempt)
    while len(got) < n and ctx.left() > 0:
        ctx.progress = f"sent {n} due at {sorted(wanted.values())} ms, received {len(got)}"
        for m in ctx.receive(consumer, 16, 15):
            now_ms = m.decode_message_timestamp or int(time.time() * 1000)
            consumer.ack(m)
            b = body_of(m)
            if b in wanted:
                if b in got:
                    raise Fail(f"{b} delivered twice")
                got[b] = (now_ms, m.delivery_timestamp, type_name(m))
    if len(got) < n:
        raise Fail(f"received {len(got)} of {n} delay messages ({ctx.progress})")
    early = [(b, wanted[b] - r[0]) for b, r in got.items() if r[0] < wanted[b] - SLACK_S * 1000]
    if early:
        raise Fail(f"delivered before the delivery timestamp (slack {SLACK_S * 1000:.0f} ms): "
                   + ", ".join(f"message {b.split('|')[2]} (due {wanted[b] / 1000 - sent_at:.2f}s after sending) {ms} ms early"
                               for b, ms in early)
                   + f"; received {len(got)} of {n}, at "
                   + ", ".join(f"{got[b][0] - wanted[b]:+d}" for b in sorted(got)) + " ms from their timestamps")
    wrong_ts = [(b, r[1]) for b, r in got.items() if r[1] is not None and r[1] != wanted[b]]
    if wrong_ts:
        raise Fail(f"delivery_timestamp on the received message differs from the one sent: {wrong_ts}")
    lates = [got[b][0] - wanted[b] for b in wanted]
    echoed = sum(1 for r in got.values() if r[1] is not None)
    types = sorted({r[2] for r in got.values()})
    return (f"{n} messages due {base - sent_at:.2f}..{base + n - 1 - sent_at:.2f}s after sending, each received "
            f"{min(lates)}..{max(lates)} ms after its timestamp, none early; delivery_timestamp echoed on "
            f"{echoed}/{n}, type {'/'.join(types)}")


def check_transaction(ctx):
    topic = ARGS.tx_topic
    group = f"GID-py5-tx-{RUN}"
    b_commit, b_rollback, b_unknown = (f"{RUN}|tx-{k}|0" for k in ("commit", "rollback", "unknown"))
    checked = []

    class Checker(TransactionChecker):
        def check(self, message):
            b = body_of(message)
            checked.append(b)
            if b == b_unknown or b == b_commit:
                return TransactionResolution.COMMIT
            return TransactionResolution.ROLLBACK

    consumer = ctx.start(SimpleConsumer(config(), group, {topic: FilterExpression()}, await_duration=AWAIT_S))
    producer = ctx.start(Producer(config(), (topic,), Checker()))
    tx = producer.begin_transaction()
    producer.send(new_message(topic, b_commit), tx)
    tx.commit()
    tx = producer.begin_transaction()
    producer.send(new_message(topic, b_rollback), tx)
    tx.rollback()
    tx = producer.begin_transaction()
    producer.send(new_message(topic, b_unknown), tx)  # neither committed nor rolled back
    t_unknown = time.time()
    ctx.progress = "committed one, rolled back one, waiting for the check-back of the third"
    # The client drops a check-back it cannot decode (it only logs it): fail fast on that.
    rejected = None
    while b_unknown not in checked and rejected is None:
        rejected = ctx.client_log_line("on_recover_orphaned_transaction_command exception")
        if time.time() > ctx.deadline:
            raise Fail(f"timed out waiting for the broker's transaction check-back; {ctx.progress}")
        time.sleep(0.05)
    t_checked = time.time()
    markers = send_markers(producer, topic, "tx-marker")
    expected = {b_commit, *markers} | ({b_unknown} if rejected is None else set())
    got = []
    types = {}
    while not expected <= set(got) and ctx.left() > 0:
        ctx.progress = (f"check-back after {t_checked - t_unknown:.1f}s, {len(markers)} markers sent; "
                        f"received {sorted(b.split('|', 1)[1] for b in got)}")
        for m in ctx.receive(consumer, 16, 15):
            consumer.ack(m)
            if ours(m):
                got.append(body_of(m))
                types[body_of(m)] = type_name(m)
    problems = []
    if rejected is not None:
        problems.append(f"the client rejected the broker's check-back (RecoverOrphanedTransactionCommand) "
                        f"{t_checked - t_unknown:.1f}s after the UNKNOWN send, the checker was never asked: {rejected}")
    if not expected <= set(got):
        problems.append(f"missing {sorted(b.split('|', 1)[1] for b in expected - set(got))}; {ctx.progress}")
    if b_rollback in got:
        problems.append("the rolled-back message was delivered")
    dups = len(got) - len(set(got))
    if dups:
        problems.append(f"{dups} duplicate deliveries: {sorted(got)}")
    if problems:
        if expected <= set(got) and b_rollback not in got and not dups:
            problems.append("otherwise fine: the committed one received once, the rolled-back one absent "
                            f"after {len(markers)} markers")
        raise Fail("; ".join(problems))
    resolved = [b.split("|", 1)[1] for b in checked if b in (b_commit, b_rollback)]
    others = sum(1 for b in checked if not b.startswith(RUN + "|"))
    return (f"committed and checked-back (after {t_checked - t_unknown:.1f}s) messages received once each, "
            f"type {types[b_commit]}/{types[b_unknown]}; rolled-back one absent after {len(markers)} markers "
            f"(one per queue); checker asked {checked.count(b_unknown)}x about the UNKNOWN one"
            + (f", also about resolved {resolved}" if resolved else "")
            + (f", {others}x about earlier runs' (rolled back)" if others else ""))


def check_simple_invisible(ctx):
    topic = ARGS.simple_topic
    group = f"GID-py5-simple-{RUN}"
    invisible, changed_to = 4, 1
    consumer = ctx.start(SimpleConsumer(config(), group, {topic: FilterExpression()}, await_duration=AWAIT_S))
    producer = ctx.start(Producer(config(), (topic,)))
    bodies = [f"{RUN}|simple|{i}" for i in range(6)]
    probe_change, probe_expire = bodies[0], bodies[1]
    for b in bodies:
        producer.send(new_message(topic, b))
    deliveries = {b: [] for b in bodies}  # body -> [(client time, delivery_attempt)]
    acked = set()
    t_change = None

    def done():
        return len(acked) == len(bodies)

    while not done() and ctx.left() > 0:
        ctx.progress = ("deliveries " + ", ".join(f"{b.split('|')[2]}:{[a for _, a in d]}" for b, d in deliveries.items())
                        + f"; acked {len(acked)}/{len(bodies)}")
        for m in ctx.receive(consumer, 16, invisible):
            now = time.time()
            b = body_of(m)
            if b not in deliveries:
                consumer.ack(m)
                continue
            deliveries[b].append((now, m.delivery_attempt))
            first = len(deliveries[b]) == 1
            if b == probe_change and first:
                consumer.change_invisible_duration(m, changed_to)
                t_change = time.time()
            elif b == probe_expire and first:
                pass  # neither acked nor changed: back after `invisible` seconds
            else:
                consumer.ack(m)
                acked.add(b)
    counts = {b.split("|")[2]: len(d) for b, d in deliveries.items()}
    if not done():
        raise Fail(f"not every message acked in time; {ctx.progress}")
    problems = []
    for b in bodies[2:]:
        if len(deliveries[b]) != 1:
            problems.append(f"message {b.split('|')[2]} delivered {len(deliveries[b])}x, acked at its first delivery")
    for b in (probe_change, probe_expire):
        d = deliveries[b]
        if len(d) != 2:
            problems.append(f"probe {b.split('|')[2]} delivered {len(d)}x, wanted 2")
        elif [a for _, a in d] != [1, 2]:
            problems.append(f"probe {b.split('|')[2]} delivery attempts {[a for _, a in d]}, wanted [1, 2]")
    dc, de = deliveries[probe_change], deliveries[probe_expire]
    back_change = dc[1][0] - t_change if len(dc) > 1 else None
    back_expire = de[1][0] - de[0][0] if len(de) > 1 else None
    if back_change is not None:
        if back_change < changed_to - TIMING_SLACK_S:
            problems.append(f"changed probe back {back_change:.2f}s after change_invisible_duration({changed_to}s)")
        if dc[1][0] - dc[0][0] >= invisible:
            problems.append(f"changed probe back only after {dc[1][0] - dc[0][0]:.2f}s, not before its first invisible time ({invisible}s) ran out")
    if back_expire is not None and back_expire < invisible - TIMING_SLACK_S:
        problems.append(f"unacked probe back after {back_expire:.2f}s, before its invisible time {invisible}s")
    if problems:
        raise Fail("; ".join(problems) + f" (deliveries per message {counts})")
    return (f"receive(invisible {invisible}s): changed-to-{changed_to}s probe back as attempt 2 after "
            f"{back_change:.2f}s, unacked probe back as attempt 2 after {back_expire:.2f}s, "
            f"{len(bodies) - 2} others acked and delivered once")


def check_push_filter(ctx):
    topic = ARGS.push_topic
    group = f"GID-py5-push-{RUN}"
    consumed = []  # (body, tag, attempt)
    lock = threading.Lock()

    class Listener(MessageListener):
        def consume(self, message):
            with lock:
                consumed.append((body_of(message), message.tag, message.delivery_attempt))
            return ConsumeResult.SUCCESS

    ctx.start(PushConsumer(config(), group, Listener(), {topic: FilterExpression("TagA")}))
    producer = ctx.start(Producer(config(), (topic,)))
    tag_a, tag_b = [], []
    for i in range(6):
        b = f"{RUN}|push-a|{i}"
        producer.send(new_message(topic, b, "TagA"))
        tag_a.append(b)
        if i % 2 == 0:
            b = f"{RUN}|push-b|{i}"
            producer.send(new_message(topic, b, "TagB"))
            tag_b.append(b)
    markers = send_markers(producer, topic, "push-marker", "TagA")
    expected = set(tag_a) | set(markers)

    def bodies():
        with lock:
            return [c[0] for c in consumed]

    ctx.progress = "waiting"

    def arrived():
        got = set(bodies())
        ctx.progress = f"sent {len(tag_a)} TagA + {len(tag_b)} TagB + {len(markers)} TagA markers; consumed {len(got & expected)} of {len(expected)} TagA"
        return expected <= got

    ctx.wait_until(arrived, "every TagA message")
    with lock:
        snapshot = list(consumed)
    wrong = [c for c in snapshot if c[0] in tag_b or (c[0].startswith(RUN) and c[1] != "TagA")]
    if wrong:
        raise Fail(f"{len(wrong)} non-TagA deliveries to the TagA subscription: {wrong[:3]}")
    mine = [c[0] for c in snapshot if c[0] in expected]
    dups = len(mine) - len(set(mine))
    return (f"{len(tag_a)} TagA + {len(markers)} TagA markers (one per queue) consumed, none of {len(tag_b)} TagB"
            + (f", {dups} redelivered" if dups else ", each once"))


FUNCS = {
    "py-fifo": check_fifo,
    "py-delay": check_delay,
    "py-transaction": check_transaction,
    "py-simple-invisible": check_simple_invisible,
    "py-push-filter": check_push_filter,
}


def shutdown_all(clients, timeout=10):
    def run():
        for c in reversed(clients):
            try:
                c.shutdown()
            except Exception:  # noqa: BLE001
                pass
    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)


def run_check(name):
    ctx = Ctx(name, ARGS.timeout)
    t0 = time.time()
    result = {}

    def body():
        try:
            result["ok"] = FUNCS[name](ctx)
        except Fail as e:
            result["fail"] = str(e)
        except Exception as e:  # noqa: BLE001
            result["fail"] = f"{type(e).__name__}: {e}; {ctx.progress}"

    t = threading.Thread(target=body, name=name, daemon=True)
    t.start()
    t.join(ARGS.timeout + 10)
    shutdown_all(ctx.clients)
    took = f"{time.time() - t0:.1f}s"
    if "ok" in result:
        report(name, True, f"{result['ok']} ({took})")
        return
    why = result.get("fail") or f"hung past the {ARGS.timeout:.0f}s deadline; {ctx.progress}"
    errs = first_client_errors(ctx.since)
    if ctx.errors:
        why += f"; first client error: {ctx.errors[0]}"
    report(name, False, f"{why} ({took}; client log {LOG}" + (f": {errs}" if errs else "") + ")")


def main():
    total = len(ARGS.checks) * (ARGS.timeout + 25) + 10
    threading.Thread(target=watchdog, args=(total,), daemon=True).start()
    for name in ARGS.checks:
        run_check(name)
    sys.stdout.flush()
    os._exit(failures())  # client threads linger; exit hard


if __name__ == "__main__":
    main()
