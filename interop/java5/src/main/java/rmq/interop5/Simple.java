package rmq.interop5;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.rocketmq.client.apis.ClientConfiguration;
import org.apache.rocketmq.client.apis.ClientServiceProvider;
import org.apache.rocketmq.client.apis.consumer.FilterExpression;
import org.apache.rocketmq.client.apis.consumer.FilterExpressionType;
import org.apache.rocketmq.client.apis.consumer.SimpleConsumer;
import org.apache.rocketmq.client.apis.message.MessageView;

/**
 * The official 5.x Java client's SimpleConsumer against a broker's gRPC endpoint.
 *
 * <pre>Simple ENDPOINT TOPIC GROUP COUNT [TAG_EXPRESSION]</pre>
 *
 * Receives (invisible 15 s) and acks until COUNT distinct bodies are acked, printing
 * "received BODY attempt=N" per delivery and "done acked=N" at the end; exits 1 after 90 s or on
 * an error. The bodies the consumer expects are the ones sent; a body that ends with "-0" is the
 * probe: its first delivery is not acked but made visible again after 1 s with
 * changeInvisibleDuration, so it must come back (attempt 2) before it is acked; with
 * -Drmq.expire=true it is simply left unacked and must come back once its invisible time
 * (-Drmq.invisible, ms) runs out.
 */
public final class Simple {
    private Simple() {}

    private static String body(MessageView v) {
        var b = v.getBody();
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: Simple ENDPOINT TOPIC GROUP COUNT [TAG_EXPRESSION]");
            System.exit(2);
        }
        String endpoint = args[0], topic = args[1], group = args[2];
        int count = Integer.parseInt(args[3]);
        String tags = args.length > 4 ? args[4] : "*";
        boolean expire = Boolean.getBoolean("rmq.expire");
        Duration invisible = Duration.ofMillis(Long.getLong("rmq.invisible", 15_000L));
        ClientServiceProvider provider = ClientServiceProvider.loadService();
        ClientConfiguration config = ClientConfiguration.newBuilder().setEndpoints(endpoint)
                .enableSsl(Boolean.parseBoolean(System.getProperty("rmq.ssl", "true"))).build();
        Set<String> acked = new HashSet<>();
        boolean probeHeld = false;
        long deadline = System.currentTimeMillis() + 90_000;
        try (SimpleConsumer consumer = provider.newSimpleConsumerBuilder()
                .setClientConfiguration(config)
                .setConsumerGroup(group)
                .setAwaitDuration(Duration.ofSeconds(5))
                .setSubscriptionExpressions(Map.of(topic, new FilterExpression(tags, FilterExpressionType.TAG)))
                .build()) {
            while (acked.size() < count) {
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException("acked " + acked.size() + " of " + count + " in 90 s");
                }
                List<MessageView> views;
                try {
                    views = consumer.receive(16, invisible);
                } catch (Exception e) {
                    // No message within the await duration is reported as an exception by some
                    // versions; anything else is printed and fails below if it keeps happening.
                    System.out.println("receive: " + e.getMessage());
                    continue;
                }
                for (MessageView v : views) {
                    String b = body(v);
                    System.out.println("received " + b + " attempt=" + v.getDeliveryAttempt() + " id=" + v.getMessageId());
                    if (b.endsWith("-0") && !probeHeld) {
                        probeHeld = true;
                        if (!expire) consumer.changeInvisibleDuration(v, Duration.ofSeconds(1));
                        continue;
                    }
                    if (b.endsWith("-0") && v.getDeliveryAttempt() < 2) {
                        throw new IllegalStateException("the probe came back with attempt " + v.getDeliveryAttempt());
                    }
                    consumer.ack(v);
                    acked.add(b);
                }
            }
        } catch (Exception e) {
            System.out.println("failed after acking " + acked.size() + ": " + e);
            e.printStackTrace(System.out);
            System.exit(1);
        }
        System.out.println("done acked=" + acked.size());
        System.exit(0);
    }
}
