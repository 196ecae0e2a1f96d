package rmq.interop;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

/**
 * The Java half of the mixed-cluster checks (crates/client/tests/mixed.rs): the official client
 * producing to and consuming from a cluster whose daemons are part rmq, part Apache.
 *
 * <pre>
 * Mixed produce NAMESRV TOPIC COUNT PREFIX
 *     sends PREFIX-0 .. PREFIX-(COUNT-1) synchronously; prints one line per message:
 *     "sent BODY BROKER_NAME QUEUE_ID", then "done sent=COUNT". Exit 1 on any status but SEND_OK.
 * Mixed consume NAMESRV GROUP TOPIC EXPECTED TIMEOUT_MS
 *     a push consumer of GROUP from the first offset until EXPECTED distinct bodies arrived or
 *     TIMEOUT_MS passed; prints "got BODY STORE_HOST TIMES" per distinct body, then
 *     "done distinct=D deliveries=N". Exit 0 either way: the caller judges the counts.
 * Mixed produce-compressed NAMESRV TOPIC COUNT PREFIX TYPE
 *     like produce, with bodies of {@link #bigBody} (8 KiB, compressed on the wire) and the
 *     producer's compression set to TYPE (ZLIB, LZ4, ZSTD). Exit 3 when this client cannot
 *     compress with TYPE (4.x has only zlib).
 * Mixed consume-big NAMESRV GROUP TOPIC EXPECTED TIMEOUT_MS
 *     like consume, for bodies of {@link #bigBody}: prints "got PREFIX-I ok" or "got PREFIX-I bad"
 *     per distinct body (ok: the body is exactly bigBody(PREFIX-I)), then "done distinct=D".
 * Mixed produce-traced NAMESRV TOPIC BODY
 *     one send with message trace on (enableMsgTrace); prints "sent MSG_ID", exit 1 unless SEND_OK.
 * Mixed read-trace NAMESRV MSG_ID EXPECTED TIMEOUT_MS
 *     reads MSG_ID's trace from RMQ_SYS_TRACE_TOPIC with Java's own decoder until EXPECTED
 *     records of it are there (or TIMEOUT_MS passed); prints "trace TYPE GROUP SUCCESS" per record.
 * Mixed request NAMESRV TOPIC COUNT PREFIX TIMEOUT_MS
 *     DefaultMQProducer.request of PREFIX-0 .. PREFIX-(COUNT-1), one after the other, each
 *     waiting up to TIMEOUT_MS; prints "reply BODY REPLY_BODY" per reply, then
 *     "done replies=N". Exit 1 when a request failed.
 * Mixed respond NAMESRV GROUP TOPIC COUNT TIMEOUT_MS
 *     a push consumer of GROUP answering each request with "java:" + its body
 *     (MessageUtil.createReplyMessage) until COUNT replies were sent or TIMEOUT_MS passed;
 *     prints "replied BODY" per reply, then "done replied=N".
 * </pre>
 */
public final class Mixed {
    private Mixed() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 5 && args[0].equals("produce")) {
            System.exit(produce(args[1], args[2], Integer.parseInt(args[3]), args[4]));
        } else if (args.length == 6 && args[0].equals("consume")) {
            consume(args[1], args[2], args[3], Integer.parseInt(args[4]), Long.parseLong(args[5]));
            System.exit(0);
        } else if (args.length == 6 && args[0].equals("produce-compressed")) {
            System.exit(produceCompressed(args[1], args[2], Integer.parseInt(args[3]), args[4], args[5]));
        } else if (args.length == 6 && args[0].equals("consume-big")) {
            consumeBig(args[1], args[2], args[3], Integer.parseInt(args[4]), Long.parseLong(args[5]));
            System.exit(0);
        } else if (args.length == 4 && args[0].equals("produce-traced")) {
            System.exit(produceTraced(args[1], args[2], args[3]));
        } else if (args.length == 5 && args[0].equals("read-trace")) {
            readTrace(args[1], args[2], Integer.parseInt(args[3]), Long.parseLong(args[4]));
            System.exit(0);
        } else if (args.length == 6 && args[0].equals("request")) {
            System.exit(request(args[1], args[2], Integer.parseInt(args[3]), args[4],
                    Long.parseLong(args[5])));
        } else if (args.length == 6 && args[0].equals("respond")) {
            respond(args[1], args[2], args[3], Integer.parseInt(args[4]), Long.parseLong(args[5]));
            System.exit(0);
        }
        System.err.println("usage: Mixed produce NAMESRV TOPIC COUNT PREFIX");
        System.err.println("       Mixed request NAMESRV TOPIC COUNT PREFIX TIMEOUT_MS");
        System.err.println("       Mixed respond NAMESRV GROUP TOPIC COUNT TIMEOUT_MS");
        System.err.println("       Mixed consume NAMESRV GROUP TOPIC EXPECTED TIMEOUT_MS");
        System.exit(2);
    }

    static int produce(String namesrv, String topic, int count, String prefix) throws Exception {
        DefaultMQProducer p = new DefaultMQProducer("PG-java-mixed");
        p.setNamesrvAddr(namesrv);
        p.setInstanceName("mixed-p-" + System.nanoTime());
        p.start();
        int failed = 0;
        try {
            for (int i = 0; i < count; i++) {
                String body = prefix + "-" + i;
                SendResult r = p.send(new Message(topic, "mixed", body.getBytes("UTF-8")));
                if (r.getSendStatus() != SendStatus.SEND_OK) {
                    System.out.println("failed " + body + " " + r.getSendStatus());
                    failed++;
                    continue;
                }
                System.out.println("sent " + body + " " + r.getMessageQueue().getBrokerName() + " "
                        + r.getMessageQueue().getQueueId());
            }
        } finally {
            p.shutdown();
        }
        System.out.println("done sent=" + (count - failed));
        return failed == 0 ? 0 : 1;
    }

    static void consume(String namesrv, String group, String topic, int expected, long timeoutMs)
            throws Exception {
        Map<String, AtomicInteger> times = new ConcurrentHashMap<>();
        Map<String, String> hosts = new ConcurrentHashMap<>();
        DefaultMQPushConsumer c = new DefaultMQPushConsumer(group);
        c.setNamesrvAddr(namesrv);
        c.setInstanceName("mixed-c-" + System.nanoTime());
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.subscribe(topic, "*");
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                String body = new String(m.getBody(), java.nio.charset.StandardCharsets.UTF_8);
                times.computeIfAbsent(body, k -> new AtomicInteger()).incrementAndGet();
                String host = m.getStoreHost().toString();
                hosts.put(body, host.startsWith("/") ? host.substring(1) : host);
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        c.start();
        Env.waitFor(timeoutMs, () -> times.size() >= expected);
        c.shutdown();
        int deliveries = 0;
        for (Map.Entry<String, AtomicInteger> e : new TreeMap<>(times).entrySet()) {
            System.out.println("got " + e.getKey() + " " + hosts.get(e.getKey()) + " " + e.getValue().get());
            deliveries += e.getValue().get();
        }
        System.out.println("done distinct=" + times.size() + " deliveries=" + deliveries);
    }

    static String text(Message m) {
        return new String(m.getBody(), java.nio.charset.StandardCharsets.UTF_8);
    }

    static int request(String namesrv, String topic, int count, String prefix, long timeoutMs)
            throws Exception {
        DefaultMQProducer p = new DefaultMQProducer("PG-java-requester");
        p.setNamesrvAddr(namesrv);
        p.setInstanceName("mixed-q-" + System.nanoTime());
        p.start();
        int replies = 0;
        try {
            for (int i = 0; i < count; i++) {
                String body = prefix + "-" + i;
                try {
                    Message r = p.request(new Message(topic, "mixed", body.getBytes("UTF-8")), timeoutMs);
                    System.out.println("reply " + body + " " + text(r));
                    replies++;
                } catch (Exception e) {
                    System.out.println("failed " + body + " " + e);
                }
            }
        } finally {
            p.shutdown();
        }
        System.out.println("done replies=" + replies);
        return replies == count ? 0 : 1;
    }

    static void respond(String namesrv, String group, String topic, int count, long timeoutMs)
            throws Exception {
        DefaultMQProducer replies = new DefaultMQProducer("PG-java-responder");
        replies.setNamesrvAddr(namesrv);
        replies.setInstanceName("mixed-r-" + System.nanoTime());
        replies.start();
        AtomicInteger sent = new AtomicInteger();
        DefaultMQPushConsumer c = new DefaultMQPushConsumer(group);
        c.setNamesrvAddr(namesrv);
        c.setInstanceName("mixed-rc-" + System.nanoTime());
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.subscribe(topic, "*");
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                try {
                    replies.send(org.apache.rocketmq.client.utils.MessageUtil.createReplyMessage(
                            m, ("java:" + text(m)).getBytes("UTF-8")));
                    System.out.println("replied " + text(m));
                    sent.incrementAndGet();
                } catch (Exception e) {
                    System.out.println("reply failed " + text(m) + " " + e);
                    return ConsumeConcurrentlyStatus.RECONSUME_LATER;
                }
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        c.start();
        Env.waitFor(timeoutMs, () -> sent.get() >= count);
        c.shutdown();
        replies.shutdown();
        System.out.println("done replied=" + sent.get());
    }

    /** An 8 KiB body that starts with its name and then repeats it: compressible, checkable. */
    static String bigBody(String name) {
        StringBuilder b = new StringBuilder(name).append('|');
        while (b.length() < 8192) b.append(name).append(';');
        return b.toString();
    }

    static int produceCompressed(String namesrv, String topic, int count, String prefix, String type)
            throws Exception {
        DefaultMQProducer p = new DefaultMQProducer("PG-java-compressed");
        p.setNamesrvAddr(namesrv);
        p.setInstanceName("mixed-z-" + System.nanoTime());
        if (!Compat.compress(p, type)) {
            System.out.println("unsupported " + type);
            return 3;
        }
        p.start();
        int failed = 0;
        try {
            for (int i = 0; i < count; i++) {
                String name = prefix + "-" + i;
                SendResult r = p.send(new Message(topic, "mixed", bigBody(name).getBytes("UTF-8")));
                if (r.getSendStatus() != SendStatus.SEND_OK) {
                    failed++;
                    continue;
                }
                System.out.println("sent " + name);
            }
        } finally {
            p.shutdown();
        }
        System.out.println("done sent=" + (count - failed));
        return failed == 0 ? 0 : 1;
    }

    static void consumeBig(String namesrv, String group, String topic, int expected, long timeoutMs)
            throws Exception {
        Map<String, Boolean> seen = new ConcurrentHashMap<>();
        DefaultMQPushConsumer c = new DefaultMQPushConsumer(group);
        c.setNamesrvAddr(namesrv);
        c.setInstanceName("mixed-cb-" + System.nanoTime());
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.subscribe(topic, "*");
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                String body = new String(m.getBody(), java.nio.charset.StandardCharsets.UTF_8);
                String name = body.contains("|") ? body.substring(0, body.indexOf('|')) : body;
                seen.put(name, body.equals(bigBody(name)));
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        c.start();
        Env.waitFor(timeoutMs, () -> seen.size() >= expected);
        c.shutdown();
        for (Map.Entry<String, Boolean> e : new TreeMap<>(seen).entrySet()) {
            System.out.println("got " + e.getKey() + " " + (e.getValue() ? "ok" : "bad"));
        }
        System.out.println("done distinct=" + seen.size());
    }

    static int produceTraced(String namesrv, String topic, String body) throws Exception {
        DefaultMQProducer p = new DefaultMQProducer("PG-java-traced", (org.apache.rocketmq.remoting.RPCHook) null, true, null);
        p.setNamesrvAddr(namesrv);
        p.setInstanceName("mixed-t-" + System.nanoTime());
        p.start();
        try {
            SendResult r = p.send(new Message(topic, "traced", body.getBytes("UTF-8")));
            if (r.getSendStatus() != SendStatus.SEND_OK) {
                System.out.println("failed " + r.getSendStatus());
                return 1;
            }
            System.out.println("sent " + r.getMsgId());
        } finally {
            // Shutdown flushes the trace dispatcher.
            p.shutdown();
        }
        return 0;
    }

    static void readTrace(String namesrv, String msgId, int expected, long timeoutMs) throws Exception {
        org.apache.rocketmq.tools.admin.DefaultMQAdminExt admin =
                new org.apache.rocketmq.tools.admin.DefaultMQAdminExt();
        admin.setNamesrvAddr(namesrv);
        admin.setInstanceName("mixed-trace-" + System.nanoTime());
        admin.start();
        java.util.List<String> lines = new java.util.ArrayList<>();
        try {
            Env.waitFor(timeoutMs, () -> {
                lines.clear();
                try {
                    for (MessageExt m : admin.queryMessage("RMQ_SYS_TRACE_TOPIC", msgId, 64, 0,
                            Long.MAX_VALUE).getMessageList()) {
                        for (org.apache.rocketmq.client.trace.TraceContext c
                                : org.apache.rocketmq.client.trace.TraceDataEncoder
                                        .decoderFromTraceDataString(text(m))) {
                            if (c.getTraceBeans().get(0).getMsgId().equals(msgId)) {
                                lines.add("trace " + c.getTraceType() + " " + c.getGroupName() + " "
                                        + c.isSuccess());
                            }
                        }
                    }
                } catch (Exception e) {
                    lines.add("error " + e);
                }
                return lines.stream().filter(l -> l.startsWith("trace ")).count() >= expected;
            });
        } finally {
            admin.shutdown();
        }
        lines.forEach(System.out::println);
    }
}
