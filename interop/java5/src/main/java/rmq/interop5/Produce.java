package rmq.interop5;

import java.nio.charset.StandardCharsets;

import org.apache.rocketmq.client.apis.ClientConfiguration;
import org.apache.rocketmq.client.apis.ClientServiceProvider;
import org.apache.rocketmq.client.apis.message.Message;
import org.apache.rocketmq.client.apis.producer.Producer;
import org.apache.rocketmq.client.apis.producer.SendReceipt;
import org.apache.rocketmq.client.apis.producer.Transaction;
import org.apache.rocketmq.client.apis.producer.TransactionResolution;

/**
 * The official 5.x Java client's producer against a broker's gRPC endpoint.
 *
 * <pre>Produce ENDPOINT TOPIC COUNT [GROUP]</pre>
 *
 * Sends COUNT messages {@code PREFIX-i} (-Drmq.prefix, default body) with tag TagA and key {@code key-i} (FIFO with message
 * group GROUP when given); prints "sent MESSAGE_ID" per message and "done sent=N". Exit 1 on the
 * first failure, with the exception. With -Drmq.transaction=commit or rollback each message is
 * sent in a transaction that is then committed or rolled back; with unknown, left open until the
 * broker's check-back (answered COMMIT) has asked about each. With -Drmq.delay=MS each message is
 * a delay message delivered MS after it is sent.
 */
public final class Produce {
    private Produce() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: Produce ENDPOINT TOPIC COUNT [GROUP]");
            System.exit(2);
        }
        String endpoint = args[0], topic = args[1];
        int count = Integer.parseInt(args[2]);
        String group = args.length > 3 ? args[3] : null;
        ClientServiceProvider provider = ClientServiceProvider.loadService();
        var builder = ClientConfiguration.newBuilder().setEndpoints(endpoint)
                .enableSsl(Boolean.parseBoolean(System.getProperty("rmq.ssl", "true")));
        // ACL: -Drmq.ak=... -Drmq.sk=... sign every call as that account.
        String ak = System.getProperty("rmq.ak");
        if (ak != null) {
            builder.setCredentialProvider(new org.apache.rocketmq.client.apis.StaticSessionCredentialsProvider(
                    ak, System.getProperty("rmq.sk", "")));
        }
        ClientConfiguration config = builder.build();
        String tx = System.getProperty("rmq.transaction", "");
        java.util.concurrent.atomic.AtomicInteger checked = new java.util.concurrent.atomic.AtomicInteger();
        int sent = 0;
        try (Producer producer = provider.newProducerBuilder()
                .setClientConfiguration(config)
                .setTopics(topic)
                .setTransactionChecker(view -> {
                    checked.incrementAndGet();
                    return TransactionResolution.COMMIT;
                })
                .build()) {
            for (int i = 0; i < count; i++) {
                var b = provider.newMessageBuilder()
                        .setTopic(topic)
                        .setTag("TagA")
                        .setKeys("key-" + i)
                        .setBody((System.getProperty("rmq.prefix", "body") + "-" + i).getBytes(StandardCharsets.UTF_8));
                if (group != null) b.setMessageGroup(group);
                long delay = Long.getLong("rmq.delay", 0L);
                if (delay > 0) b.setDeliveryTimestamp(System.currentTimeMillis() + delay);
                Message m = b.build();
                SendReceipt r;
                if (tx.isEmpty()) {
                    r = producer.send(m);
                } else {
                    Transaction t = producer.beginTransaction();
                    r = producer.send(m, t);
                    if (tx.equals("commit")) t.commit();
                    else if (tx.equals("rollback")) t.rollback();
                    // "unknown": left open; the broker's check-back resolves it (COMMIT).
                }
                System.out.println("sent " + r.getMessageId());
                sent++;
            }
            if (tx.equals("unknown")) {
                long deadline = System.currentTimeMillis() + 60_000;
                while (checked.get() < count && System.currentTimeMillis() < deadline) Thread.sleep(50);
                System.out.println("checked " + checked.get());
                if (checked.get() < count) throw new IllegalStateException("the broker checked " + checked.get() + " of " + count + " open transactions in 60 s");
            }
        } catch (Exception e) {
            System.out.println("failed after " + sent + ": " + e);
            e.printStackTrace(System.out);
            System.exit(1);
        }
        System.out.println("done sent=" + sent);
        System.exit(0);
    }
}
