package rmq.interop;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;

/**
 * A live producer group and push-consumer group for {@code mqadmin.sh}: the admin commands that
 * ask about connections, consumer running info, message queries and offset resets need clients
 * that stay up while the commands run.
 *
 * <pre>Fixture NAMESRV TOPIC PRODUCER_GROUP CONSUMER_GROUP COUNT STATE_DIR</pre>
 *
 * Creates TOPIC (4 queues) on every master of the cluster ({@code -Drmq.cluster}, default
 * DefaultCluster), records the time in STATE_DIR/start_ms, sends COUNT messages with tag TagA and
 * keys TOPIC-key-0 .. TOPIC-key-(COUNT-1) and writes one line per message to STATE_DIR/sent
 * ({@code index uniqueMsgId offsetMsgId key}), then keeps the producer and a push consumer of
 * TOPIC (from the first offset) running until it is killed. STATE_DIR/received always holds the
 * number of deliveries so far (redeliveries included); STATE_DIR/ready appears once every message
 * was sent. Both clients heartbeat every second, so brokers know them at once.
 */
public final class Fixture {
    public static void main(String[] args) throws Exception {
        if (args.length != 6) {
            System.err.println("usage: Fixture NAMESRV TOPIC PRODUCER_GROUP CONSUMER_GROUP COUNT STATE_DIR");
            System.exit(2);
        }
        String namesrv = args[0];
        String topic = args[1];
        String producerGroup = args[2];
        String consumerGroup = args[3];
        int count = Integer.parseInt(args[4]);
        Path dir = Path.of(args[5]);
        Files.createDirectories(dir);
        Env env = new Env(namesrv, System.getProperty("rmq.cluster", "DefaultCluster"));

        Clients.createTopic(env, topic, 4);
        write(dir.resolve("start_ms"), Long.toString(System.currentTimeMillis()));
        write(dir.resolve("received"), "0");

        DefaultMQProducer producer = new DefaultMQProducer(producerGroup);
        producer.setNamesrvAddr(namesrv);
        producer.setInstanceName("fixture-p-" + System.nanoTime());
        producer.setHeartbeatBrokerInterval(1000);

        AtomicLong received = new AtomicLong();
        DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(consumerGroup);
        consumer.setNamesrvAddr(namesrv);
        consumer.setInstanceName("fixture-c-" + System.nanoTime());
        consumer.setHeartbeatBrokerInterval(1000);
        consumer.setPersistConsumerOffsetInterval(1000);
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        consumer.subscribe(topic, "*");
        consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            long n = received.addAndGet(msgs.size());
            try {
                writeCount(dir, n, received);
            } catch (Exception e) {
                e.printStackTrace();
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });

        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            consumer.shutdown();
            producer.shutdown();
            stop.countDown();
        }));

        producer.start();
        List<String> sent = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String key = topic + "-key-" + i;
            Message m = new Message(topic, "TagA", key, ("fixture message " + i).getBytes(StandardCharsets.UTF_8));
            SendResult r = producer.send(m);
            if (r.getSendStatus() != SendStatus.SEND_OK) {
                throw new IllegalStateException("message " + i + ": " + r.getSendStatus());
            }
            sent.add(i + " " + r.getMsgId() + " " + r.getOffsetMsgId() + " " + key);
        }
        write(dir.resolve("sent"), String.join("\n", sent) + "\n");
        consumer.start();
        write(dir.resolve("ready"), "sent " + count);
        System.out.println("fixture ready: sent " + count + " to " + topic + "; producer group " + producerGroup
                + ", consumer group " + consumerGroup);
        stop.await();
    }

    /** Writes the count unless a later one got there first; one writer at a time. */
    private static synchronized void writeCount(Path dir, long n, AtomicLong latest) throws Exception {
        if (n == latest.get()) {
            write(dir.resolve("received"), Long.toString(n));
        }
    }

    /** Replaces {@code file} atomically, so a reader never sees half a file. */
    private static void write(Path file, String text) throws Exception {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
