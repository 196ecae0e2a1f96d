package rmq.interop5;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.rocketmq.client.apis.ClientConfiguration;
import org.apache.rocketmq.client.apis.ClientServiceProvider;
import org.apache.rocketmq.client.apis.consumer.ConsumeResult;
import org.apache.rocketmq.client.apis.consumer.FilterExpression;
import org.apache.rocketmq.client.apis.consumer.FilterExpressionType;
import org.apache.rocketmq.client.apis.consumer.PushConsumer;

/**
 * The official 5.x Java client's PushConsumer against a broker's gRPC endpoint.
 *
 * <pre>Push ENDPOINT TOPIC GROUP COUNT [TAG_EXPRESSION]</pre>
 *
 * Consumes until COUNT distinct bodies were consumed successfully, printing "consumed BODY
 * attempt=N tag=T" per delivery and "done consumed=N"; exits 1 after 90 s. A body ending in "-0"
 * fails its first delivery (ConsumeResult.FAILURE), so it must be delivered again.
 */
public final class Push {
    private Push() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: Push ENDPOINT TOPIC GROUP COUNT [TAG_EXPRESSION]");
            System.exit(2);
        }
        String endpoint = args[0], topic = args[1], group = args[2];
        int count = Integer.parseInt(args[3]);
        String tags = args.length > 4 ? args[4] : "*";
        ClientServiceProvider provider = ClientServiceProvider.loadService();
        ClientConfiguration config = ClientConfiguration.newBuilder().setEndpoints(endpoint)
                .enableSsl(Boolean.parseBoolean(System.getProperty("rmq.ssl", "true"))).build();
        Set<String> consumed = ConcurrentHashMap.newKeySet();
        try (PushConsumer consumer = provider.newPushConsumerBuilder()
                .setClientConfiguration(config)
                .setConsumerGroup(group)
                .setSubscriptionExpressions(Map.of(topic, new FilterExpression(tags, FilterExpressionType.TAG)))
                .setMessageListener(v -> {
                    var b = v.getBody();
                    byte[] bytes = new byte[b.remaining()];
                    b.get(bytes);
                    String body = new String(bytes, StandardCharsets.UTF_8);
                    System.out.println("consumed " + body + " attempt=" + v.getDeliveryAttempt() + " tag=" + v.getTag().orElse(""));
                    if (body.endsWith("-0") && v.getDeliveryAttempt() == 1) return ConsumeResult.FAILURE;
                    consumed.add(body);
                    return ConsumeResult.SUCCESS;
                })
                .build()) {
            long deadline = System.currentTimeMillis() + 90_000;
            while (consumed.size() < count && System.currentTimeMillis() < deadline) Thread.sleep(50);
            if (consumed.size() < count) {
                System.out.println("failed: consumed " + consumed.size() + " of " + count + " in 90 s");
                System.exit(1);
            }
        } catch (Exception e) {
            System.out.println("failed: " + e);
            e.printStackTrace(System.out);
            System.exit(1);
        }
        System.out.println("done consumed=" + consumed.size());
        System.exit(0);
    }
}
