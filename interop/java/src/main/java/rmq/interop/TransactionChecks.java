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
            // What each local transaction decided, by transaction id, as an application keeps it:
            // a check-back is answered with the recorded outcome. Apache may ask about any
            // transaction whose end it has not yet recorded, even one already committed or rolled
            // back (5.x writes its op records in batches every transactionOpBatchInterval, 3 s by
            // default, longer than the suite's transactionTimeOut of 1 s).
            ConcurrentHashMap<String, LocalTransactionState> decided = new ConcurrentHashMap<>();
            TransactionMQProducer p = new TransactionMQProducer(env.group("PJTx"));
            p.setNamesrvAddr(env.namesrv);
            p.setInstanceName("tx-" + System.nanoTime());
            p.setTransactionListener(new TransactionListener() {
                public LocalTransactionState executeLocalTransaction(Message msg, Object arg) {
                    String kind = msg.getUserProperty("kind");
                    LocalTransactionState state;
                    switch (kind) {
                        case "commit": state = LocalTransactionState.COMMIT_MESSAGE; break;
                        case "rollback": state = LocalTransactionState.ROLLBACK_MESSAGE; break;
                        // The unknown ones commit once the broker asks.
                        default: state = LocalTransactionState.COMMIT_MESSAGE; break;
                    }
                    decided.put(msg.getTransactionId(), state);
                    return "unknown".equals(kind) ? LocalTransactionState.UNKNOW : state;
                }

                public LocalTransactionState checkLocalTransaction(MessageExt msg) {
                    checks.incrementAndGet();
                    LocalTransactionState state = decided.get(msg.getTransactionId());
                    if (state == null) {
                        // Not one of ours: keep it undecided rather than guess.
                        return LocalTransactionState.UNKNOW;
                    }
                    return state;
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
                    Env.waitFor(Env.DELIVERY_MS, () -> sink.received.get() >= 2L * each + 4);
                } finally {
                    consumer.shutdown();
                }
                long rolledBack = sink.messages().stream().filter(m -> "rollback".equals(m.getTags())).count();
                Outcome o = new Outcome().count("checks", checks.get()).count("rolledBackDelivered", rolledBack)
                        .expectEq("half messages SEND_OK", 3L * each, halfOk)
                        .expect(checks.get() >= each, "only " + checks.get() + " check-backs for " + each + " unknown transactions")
                        .expectEq("rolled back delivered", 0, rolledBack);
                // A transaction committed by the producer and again when a check-back asks is
                // delivered twice with the same message id (Apache's EndTransactionProcessor
                // commits the half message each time it is told to): transactional messages are
                // at least once, so duplicates are counted, not failed. received counts distinct ids.
                o.count("sent", 3L * each).count("received", sink.received.get()).count("dup", sink.duplicates.get())
                        .count("wrongTag", sink.wrongTag.get());
                return o.expectEq("wrong tags", 0, sink.wrongTag.get())
                        .expectEq("received (commit + checked + 4 markers)", 2L * each + 4, sink.received.get());
            } finally {
                p.shutdown();
            }
        }
    }
}
