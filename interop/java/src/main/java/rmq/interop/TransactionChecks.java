package rmq.interop;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.rocketmq.client.producer.LocalTransactionState;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.client.producer.TransactionListener;
import org.apache.rocketmq.client.producer.TransactionMQProducer;
import org.apache.rocketmq.client.producer.TransactionSendResult;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

/**
 * TransactionMQProducer: half messages committed, rolled back, and left unknown then resolved
 * by the broker's check-back. Only committed ones (and checked-back commits) are consumed; a
 * marker sent last proves the rolled-back ones will not arrive.
 */
public final class TransactionChecks {
    private TransactionChecks() {}

    static final class Outcomes implements Check {
        public String name() { return "transaction-commit-rollback-checkback"; }

        public Outcome run(Env env) throws Exception {
            String topic = env.topic("JTx");
            Clients.createTopic(env, topic, 4);
            AtomicLong checks = new AtomicLong();
            ConcurrentHashMap<String, LocalTransactionState> decided = new ConcurrentHashMap<>();
            TransactionMQProducer p = new TransactionMQProducer(env.group("PJTx"));
            p.setNamesrvAddr(env.namesrv);
            p.setInstanceName("tx-" + System.nanoTime());
            p.setTransactionListener(new TransactionListener() {
                public LocalTransactionState executeLocalTransaction(Message msg, Object arg) {
                    String kind = msg.getUserProperty("kind");
                    switch (kind) {
                        case "commit": return LocalTransactionState.COMMIT_MESSAGE;
                        case "rollback": return LocalTransactionState.ROLLBACK_MESSAGE;
                        default: return LocalTransactionState.UNKNOW;
                    }
                }

                public LocalTransactionState checkLocalTransaction(MessageExt msg) {
                    checks.incrementAndGet();
                    // The unknown ones are committed when the broker asks.
                    decided.put(msg.getTransactionId() == null ? msg.getMsgId() : msg.getTransactionId(),
                            LocalTransactionState.COMMIT_MESSAGE);
                    return LocalTransactionState.COMMIT_MESSAGE;
                }
            });
            p.start();
            int each = 10;
            long halfOk = 0;
            try {
                for (String kind : new String[] {"commit", "rollback", "unknown"}) {
                    for (int i = 0; i < each; i++) {
                        Message m = new Message(topic, kind, (kind + i).getBytes(StandardCharsets.UTF_8));
                        m.putUserProperty("kind", kind);
                        TransactionSendResult r = p.sendMessageInTransaction(m, null);
                        if (r.getSendStatus() == SendStatus.SEND_OK) halfOk++;
                    }
                }
                Collector sink = Collector.tags("commit", "unknown", "marker");
                var consumer = Clients.push(env, "CJTx", topic, "*", sink);
                consumer.start();
                try {
                    // Committed + checked-back commits: 20. Wait for them (check-back takes the
                    // broker's transactionCheckInterval).
                    Env.waitFor(90_000, () -> sink.received.get() >= 2L * each);
                    // Then a marker: once it arrives, nothing rolled back can still be in flight
                    // before it on the queues that matter.
                    org.apache.rocketmq.client.producer.DefaultMQProducer mp = Clients.producer(env, "PJTxMarker");
                    try {
                        for (int q = 0; q < 4; q++) {
                            Message marker = new Message(topic, "marker", ("marker" + q).getBytes(StandardCharsets.UTF_8));
                            mp.send(marker, new org.apache.rocketmq.common.message.MessageQueue(topic,
                                    mp.fetchPublishMessageQueues(topic).get(q).getBrokerName(), q));
                        }
                    } finally {
                        mp.shutdown();
                    }
                    Env.waitFor(30_000, () -> sink.received.get() >= 2L * each + 4);
                } finally {
                    consumer.shutdown();
                }
                long rolledBack = sink.messages().stream().filter(m -> "rollback".equals(m.getTags())).count();
                Outcome o = new Outcome().count("checks", checks.get()).count("rolledBackDelivered", rolledBack)
                        .expectEq("half messages SEND_OK", 3L * each, halfOk)
                        .expect(checks.get() >= each, "only " + checks.get() + " check-backs for " + each + " unknown transactions")
                        .expectEq("rolled back delivered", 0, rolledBack);
                return sink.report(o, 3L * each).expectEq("received (commit + checked + 4 markers)", 2L * each + 4, sink.received.get());
            } finally {
                p.shutdown();
            }
        }
    }
}
