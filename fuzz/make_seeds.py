#!/usr/bin/env python3
"""Writes the small seed corpus under fuzz/seeds/<target>/: well-formed inputs of each kind,
so the fuzzers start from real frames, records and files rather than from nothing. Rerun after
changing it: python3 fuzz/make_seeds.py"""
import json, os, struct, zlib, glob

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def put(target, name, data):
    d = os.path.join(HERE, "seeds", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def frame_json(code, ext, body=b"", flag=0):
    header = json.dumps({"code": code, "language": "JAVA", "version": 453, "opaque": 7,
                         "flag": flag, "extFields": ext}).encode()
    return struct.pack(">ii", 4 + len(header) + len(body), len(header)) + header + body


def frame_binary(code, ext, body=b""):
    h = struct.pack(">hbhii", code, 0, 453, 7, 0)
    h += struct.pack(">i", 0)  # remark length
    fields = b""
    for k, v in ext.items():
        fields += struct.pack(">h", len(k)) + k.encode() + struct.pack(">i", len(v)) + v.encode()
    h += struct.pack(">i", len(fields)) + fields
    word = (1 << 24) | len(h)
    return struct.pack(">iI", 4 + len(h) + len(body), word) + h + body


send_v2 = {"a": "PG", "b": "TopicTest", "c": "TBW102", "d": "4", "e": "1", "f": "0",
           "g": "1700000000000", "h": "0", "i": "TAGS\x01TagA\x02KEYS\x01k1\x02", "j": "0", "k": "false"}
put("remoting_frame", "send_v2_json", frame_json(310, send_v2, b"hello"))
put("remoting_frame", "send_v2_binary", frame_binary(310, send_v2, b"hello"))
pull = {"consumerGroup": "CG", "topic": "TopicTest", "queueId": "0", "queueOffset": "0",
        "maxMsgNums": "32", "sysFlag": "2", "commitOffset": "0", "suspendTimeoutMillis": "15000",
        "subscription": "*", "subVersion": "0"}
put("remoting_frame", "pull_json", frame_json(11, pull))
heartbeat = {"clientID": "127.0.0.1@1", "producerDataSet": [{"groupName": "PG"}],
             "consumerDataSet": []}
put("remoting_frame", "heartbeat_json", frame_json(34, {}, json.dumps(heartbeat).encode()))
put("remoting_frame", "two_frames", frame_json(11, pull) + frame_binary(310, send_v2, b"x"))


def record(topic, queue_id, body, props, queue_offset=0, phy=0):
    topic_b, props_b = topic.encode(), props.encode()
    total = 4 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 8 + 8 + 8 + 8 + 4 + 8 + 4 + len(body) + 1 + len(topic_b) + 2 + len(props_b)
    out = struct.pack(">iiIiiqqiq", total, -626843481, zlib.crc32(body), queue_id, 0,
                      queue_offset, phy, 0, 1700000000000)
    out += bytes([127, 0, 0, 1]) + struct.pack(">i", 40000)
    out += struct.pack(">q", 1700000000001)
    out += bytes([127, 0, 0, 1]) + struct.pack(">i", 10911)
    out += struct.pack(">iqi", 0, 0, len(body)) + body
    out += bytes([len(topic_b)]) + topic_b + struct.pack(">h", len(props_b)) + props_b
    return out


r1 = record("TopicTest", 0, b"hello", "TAGS\x01TagA\x02KEYS\x01k1\x02")
r2 = record("TopicTest", 1, b"world" * 10, "UNIQ_KEY\x01AC1100010001\x02", 1, len(r1))
put("stored_record", "one_record", r1)
put("stored_record", "two_records", r1 + r2)


def batch_entry(body, props):
    p = props.encode()
    return struct.pack(">iiiii", 20 + len(body) + 2 + len(p), 0, 0, 0, len(body)) + body + struct.pack(">h", len(p)) + p


put("stored_record", "batch", batch_entry(b"a", "KEYS\x01k\x02") + batch_entry(b"bb", ""))
put("stored_record", "properties", "TAGS\x01TagA\x02KEYS\x01k1 k2\x02UNIQ_KEY\x01AC11\x02")
put("stored_record", "offset_msg_id", "7F00000100002A9F0000000000000000")

hdr = lambda off, size: struct.pack(">qi", off, size)
put("ha_frames", "empty_slave_first_frame", b"\x00" + hdr(4096, 5) + b"hello" + hdr(4101, 0))
put("ha_frames", "continuing_slave", b"\x01" + hdr(4096, 3) + b"abc" + hdr(4099, 2) + b"de")
put("ha_frames", "hello_then_reports", b"\x02" + struct.pack(">qqqq", -3365446327420043007, 1, 0, 2048))

for f in sorted(glob.glob(os.path.join(ROOT, "deploy", "conf", "**", "*"), recursive=True)):
    if os.path.isfile(f) and not f.endswith((".pem", ".key", ".crt")):
        with open(f, "rb") as fh:
            put("properties", os.path.relpath(f, ROOT).replace("/", "_"), fh.read())
put("properties", "delay_levels", "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h")

register = {
    "topicConfigSerializeWrapper": {
        "topicConfigTable": {"TopicTest": {"topicName": "TopicTest", "readQueueNums": 4,
                                           "writeQueueNums": 4, "perm": 6,
                                           "topicFilterType": "SINGLE_TAG", "topicSysFlag": 0,
                                           "order": False}},
        "dataVersion": {"counter": 3, "timestamp": 1700000000000}},
    "filterServerList": []}
body = json.dumps(register).encode()
put("namesrv_json", "register_plain", body)
put("namesrv_json", "register_deflate", zlib.compress(body))
put("namesrv_json", "register_fastjson", body.replace(b'"TopicTest":', b'TopicTest:', 1))
put("namesrv_json", "heartbeat", json.dumps(heartbeat))
put("namesrv_json", "lock_batch", json.dumps({"consumerGroup": "CG", "clientId": "c1",
                                              "mqSet": [{"topic": "T", "brokerName": "b", "queueId": 0}]}))

# store_recovery takes structured input (arbitrary): a few byte strings to start from.
put("store_recovery", "crash_no_damage", b"\x01")
put("store_recovery", "clean_one_patch", b"\x00\x01\x00\x00\x10\x00\x04\xff\xff\xff\xff")
put("store_recovery", "crash_cut", b"\x01\x00\x01\x02\x00\x00\x40")
