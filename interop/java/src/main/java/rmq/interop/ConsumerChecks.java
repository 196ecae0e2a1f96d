package rmq.interop;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.UtilAll;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;

/** DefaultMQPushConsumer beyond the basics: broadcasting, retry to DLQ, start by timestamp. */
public final class ConsumerChecks {
    private ConsumerChecks() {}

    static void send(Env env, String topic, String tag, int from, int n) throws Exception {
        DefaultMQProducer p = Clients.producer(env, "PJCons");
        try {
            for (int i = from; i < from + n; i++) {
                p.send(new Message(topic, tag, ("m" + i).getBytes(StandardCharsets.UTF_8)));
            }
        } finally {
            p.shutdown();
        }
    }

    /** Two broadcasting members each receive every message. */
    static final class Broadcast implements Check {
        public String name() { return "push-broadcasting"; }

        public Outcome run(Env env) throws Exception {
            String topic = env.topic("JBcast");
            Clients.createTopic(env, topic, 4);
            Collector a = Collector.anyTag();
            Collector b = Collector.anyTag();
            DefaultMQPushConsumer ca = Clients.push(env, "CJBcast", topic, "*", a);
            DefaultMQPushConsumer cb = Clients.push(env, "CJBcast", topic, "*", b);
            Compat.broadcasting(ca);
            Compat.broadcasting(cb);
            int n = 40;
            try {
                ca.start();
                cb.start();
                send(env, topic, "TagA", 0, n);
                Env.waitFor(Env.DELIVERY_MS, () -> a.received.get() >= n && b.received.get() >= n);
            } finally {
                ca.shutdown();
                cb.shutdown();
            }
            Outcome o = a.report(new Outcome(), n).expectEq("member A received", n, a.received.get());
            o.count("memberB", b.received.get());
            return o.expectEq("member B received", n, b.received.get())
                    .expectEq("member B duplicates", 0, b.duplicates.get());
        }
    }

    /** RECONSUME_LATER three times: the message comes back through %RETRY% and, after
     * maxReconsumeTimes=2, lands in %DLQ% (the suite's broker runs with 1 s delay levels). */
    static final class RetryToDlq implements Check {
        public String name() { return "push-retry-then-dlq"; }

        public Outcome run(Env env) throws Exception {
            String topic = env.topic("JRetry");
            Clients.createTopic(env, topic, 1);
            String group = env.group("CJRetry");
            AtomicLong deliveries = new AtomicLong();
            AtomicLong retryTopicSeen = new AtomicLong();
            DefaultMQPushConsumer c = new DefaultMQPushConsumer(group);
            c.setNamesrvAddr(env.namesrv);
            c.setInstanceName("r-" + System.nanoTime());
            c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
            c.setMaxReconsumeTimes(2);
            c.subscribe(topic, "*");
            c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
                deliveries.addAndGet(msgs.size());
                msgs.forEach(m -> {
                    if (m.getProperty("RETRY_TOPIC") != null) retryTopicSeen.incrementAndGet();
                });
                return ConsumeConcurrentlyStatus.RECONSUME_LATER;
            });
            Collector dlq = Collector.anyTag();
            DefaultMQPushConsumer d = null;
            try {
                c.start();
                send(env, topic, "TagA", 0, 1);
                Env.waitFor(60_000, () -> deliveries.get() >= 3);
                // The DLQ is an ordinary topic: a consumer of another group reads it.
                var admin = Clients.admin(env);
                try {
                    Env.waitFor(30_000, () -> {
                        try {
                            return admin.examineTopicRouteInfo("%DLQ%" + group) != null;
                        } catch (Exception e) {
                            return false;
                        }
                    });
                } finally {
                    admin.shutdown();
                }
                d = Clients.push(env, "CJRetryDlqReader", "%DLQ%" + group, "*", dlq);
                d.start();
                Env.waitFor(Env.DELIVERY_MS, () -> dlq.received.get() >= 1);
            } finally {
                c.shutdown();
                if (d != null) d.shutdown();
            }
            return new Outcome().count("deliveries", deliveries.get()).count("viaRetryTopic", retryTopicSeen.get())
                    .count("dlq", dlq.received.get())
                    .expectEq("deliveries (1 + maxReconsumeTimes)", 3, deliveries.get())
                    .expectEq("redeliveries marked with RETRY_TOPIC", 2, retryTopicSeen.get())
                    .expectEq("messages in %DLQ%", 1, dlq.received.get());
        }
    }

    /**
     * CONSUME_FROM_TIMESTAMP. The broker half: SEARCH_OFFSET_BY_TIMESTAMP for a cut taken 1 s
     * after the old messages and just before the new ones finds, per queue, the first new one.
     * Apache 4.x answers the message stored nearest the timestamp (ConsumeQueue
     * getOffsetInQueueByTime takes the closer of the two neighbours), 5.x the first one stored at
     * or after it (boundary type LOWER); with the cut placed so, both rules give the same offset. The client half, as Apache's broker behaves: a
     * NEW group whose queues still hold their first message in memory is told offset 0 by
     * QUERY_CONSUMER_OFFSET (Apache's ConsumerManageProcessor), so it consumes from the start
     * whatever consumeFromWhere says; the timestamp only matters once data has left memory.
     */
    static final class FromTimestamp implements Check {
        public String name() { return "push-consume-from-timestamp"; }

        public Outcome run(Env env) throws Exception {
            String topic = env.topic("JTime");
            Clients.createTopic(env, topic, 2);
            long cut;
            DefaultMQProducer p = Clients.producer(env, "PJCons");
            try {
                for (int i = 0; i < 10; i++) {
                    p.send(new Message(topic, "old", ("m" + i).getBytes(StandardCharsets.UTF_8)));
                }
                // The old messages are 1 s before the cut, the new ones a send's latency after it
                // (the producer already knows the route).
                Thread.sleep(1000);
                cut = System.currentTimeMillis();
                for (int i = 10; i < 20; i++) {
                    p.send(new Message(topic, "new", ("m" + i).getBytes(StandardCharsets.UTF_8)));
                }
            } finally {
                p.shutdown();
            }
            Outcome o = new Outcome();
            var admin = new org.apache.rocketmq.client.consumer.DefaultMQPullConsumer(env.group("CJTimeSearch"));
            admin.setNamesrvAddr(env.namesrv);
            admin.setInstanceName("s-" + System.nanoTime());
            admin.start();
            long oldBefore = 0;
            try {
                for (var mq : admin.fetchSubscribeMessageQueues(topic)) {
                    long found = admin.searchOffset(mq, cut);
                    long max = admin.maxOffset(mq);
                    // Each queue got old then new messages; the found offset splits them.
                    oldBefore += found;
                    o.expect(found >= 0 && found <= max, mq + ": searchOffset " + found + " outside 0.." + max);
                }
            } finally {
                admin.shutdown();
            }
            o.count("oldBeforeCut", oldBefore).expectEq("offsets before the cut (old messages)", 10, oldBefore);
            Collector sink = Collector.tags("old", "new");
            DefaultMQPushConsumer c = Clients.push(env, "CJTime", topic, "*", sink);
            c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_TIMESTAMP);
            c.setConsumeTimestamp(UtilAll.timeMillisToHumanString3(cut));
            try {
                c.start();
                Env.waitFor(Env.DELIVERY_MS, () -> sink.received.get() >= 20);
            } finally {
                c.shutdown();
            }
            return sink.report(o, 20).expectEq("received (a new group starts at 0 while in memory)", 20, sink.received.get());
        }
    }
}
