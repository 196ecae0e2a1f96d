package rmq.interop5;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.rocketmq.client.apis.ClientConfiguration;
import org.apache.rocketmq.client.apis.ClientServiceProvider;
import org.apache.rocketmq.client.apis.consumer.ConsumeResult;
import org.apache.rocketmq.client.apis.consumer.FilterExpression;
import org.apache.rocketmq.client.apis.consumer.FilterExpressionType;
import org.apache.rocketmq.client.apis.consumer.PushConsumer;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.remoting.protocol.body.CMResult;
import org.apache.rocketmq.remoting.protocol.body.ConsumeMessageDirectlyResult;
import org.apache.rocketmq.remoting.protocol.body.ConsumerConnection;
import org.apache.rocketmq.remoting.protocol.body.ConsumerRunningInfo;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * Apache's admin API (rocketmq-tools, remoting) asking the official 5.x Java client's
 * PushConsumer, connected over gRPC, what `mqadmin consumerStatus -s` and
 * `mqadmin queryMsgById -d` ask: its running info with a thread dump, and to consume one stored
 * message on request. The broker relays both over the consumer's Telemetry stream.
 *
 * <pre>Relay NAMESRV GRPC_ENDPOINT TOPIC GROUP</pre>
 *
 * Sends one message over remoting ("relay-1", tag TagR), starts the PushConsumer (TagR), waits
 * until the group lists it and it consumed the message, then asks. Prints "jstack ok" and
 * "consumeDirectly CR_SUCCESS" on success and "done", else "failed: ..." and exits 1.
 */
public final class Relay {
    private Relay() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: Relay NAMESRV GRPC_ENDPOINT TOPIC GROUP");
            System.exit(2);
        }
        String namesrv = args[0], endpoint = args[1], topic = args[2], group = args[3];
        DefaultMQProducer producer = new DefaultMQProducer("PG-relay");
        producer.setNamesrvAddr(namesrv);
        producer.start();
        DefaultMQAdminExt admin = new DefaultMQAdminExt();
        admin.setNamesrvAddr(namesrv);
        admin.start();
        Map<String, AtomicInteger> consumed = new ConcurrentHashMap<>();
        ClientConfiguration config = ClientConfiguration.newBuilder().setEndpoints(endpoint)
                .enableSsl(false).build();
        try (PushConsumer consumer = ClientServiceProvider.loadService().newPushConsumerBuilder()
                .setClientConfiguration(config)
                .setConsumerGroup(group)
                .setSubscriptionExpressions(Map.of(topic, new FilterExpression("TagR", FilterExpressionType.TAG)))
                .setMessageListener(v -> {
                    var b = v.getBody();
                    byte[] bytes = new byte[b.remaining()];
                    b.get(bytes);
                    String body = new String(bytes, StandardCharsets.UTF_8);
                    System.out.println("consumed " + body);
                    consumed.computeIfAbsent(body, k -> new AtomicInteger()).incrementAndGet();
                    return ConsumeResult.SUCCESS;
                })
                .build()) {
            SendResult sent = producer.send(new Message(topic, "TagR", "relay-1".getBytes(StandardCharsets.UTF_8)));
            System.out.println("sent " + sent.getMsgId() + " offsetMsgId=" + sent.getOffsetMsgId());
            long deadline = System.currentTimeMillis() + 60_000;
            String clientId = null;
            while (System.currentTimeMillis() < deadline) {
                try {
                    ConsumerConnection cc = admin.examineConsumerConnectionInfo(group);
                    if (!cc.getConnectionSet().isEmpty() && consumed.containsKey("relay-1")) {
                        clientId = cc.getConnectionSet().iterator().next().getClientId();
                        break;
                    }
                } catch (Exception notYet) {
                    // The group is not listed until the consumer's Telemetry settings arrive.
                }
                Thread.sleep(100);
            }
            if (clientId == null) {
                fail("the consumer was not listed, or did not consume relay-1, within 60 s");
            }
            System.out.println("client " + clientId);
            ConsumerRunningInfo info = admin.getConsumerRunningInfo(group, clientId, true);
            if (info == null || info.getJstack() == null || !info.getJstack().contains("Thread")) {
                fail("no thread dump in the running info: " + (info == null ? "null" : info.getJstack()));
            }
            if (info.getSubscriptionSet() == null || info.getSubscriptionSet().isEmpty()) {
                fail("no subscription in the running info");
            }
            System.out.println("jstack ok (" + info.getJstack().length() + " chars)");
            ConsumeMessageDirectlyResult r = admin.consumeMessageDirectly(group, clientId, topic, sent.getMsgId());
            if (r.getConsumeResult() != CMResult.CR_SUCCESS) {
                fail("consumeMessageDirectly answered " + r);
            }
            if (consumed.get("relay-1").get() < 2) {
                fail("the listener did not see relay-1 again on request");
            }
            System.out.println("consumeDirectly " + r.getConsumeResult());
        } catch (Exception e) {
            System.out.println("failed: " + e);
            e.printStackTrace(System.out);
            System.exit(1);
        } finally {
            producer.shutdown();
            admin.shutdown();
        }
        System.out.println("done");
        System.exit(0);
    }

    private static void fail(String why) {
        System.out.println("failed: " + why);
        System.exit(1);
    }
}
