package rmq.interop;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListSet;

import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.MessageSelector;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;

/** SQL92 property filters (the broker runs with enablePropertyFilter=true). */
public final class SqlChecks {
    private SqlChecks() {}

    static DefaultMQPushConsumer consumer(Env env, String group, String topic, String sql,
            Set<String> sink) throws Exception {
        DefaultMQPushConsumer c = new DefaultMQPushConsumer(env.group(group));
        c.setNamesrvAddr(env.namesrv);
        c.setInstanceName("sql-" + group + "-" + System.nanoTime());
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.subscribe(topic, MessageSelector.bySql(sql));
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            msgs.forEach(m -> sink.add(new String(m.getBody(), StandardCharsets.UTF_8)));
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        return c;
    }

    /** MessageSelector.bySql: only the messages whose properties match arrive (a marker sent
     * last shows nothing else is on its way), and a malformed selector fails start(). */
    static final class PushSql implements Check {
        public String name() { return "push-sql92"; }

        public Outcome run(Env env) throws Exception {
            String topic = env.topic("JSql");
            Clients.createTopic(env, topic, 1);
            Set<String> got = new ConcurrentSkipListSet<>();
            DefaultMQPushConsumer c = consumer(env, "CJSql", topic,
                    "(a BETWEEN 3 AND 5 AND region = 'eu') OR marker IS NOT NULL", got);
            DefaultMQProducer p = Clients.producer(env, "PJSql");
            boolean badRefused = false;
            String badError = "";
            try {
                c.start();
                for (int i = 0; i < 10; i++) {
                    for (String region : new String[] {"eu", "us"}) {
                        Message m = new Message(topic, "TagA", (region + i).getBytes(StandardCharsets.UTF_8));
                        m.putUserProperty("a", String.valueOf(i));
                        m.putUserProperty("region", region);
                        p.send(m);
                    }
                }
                Message marker = new Message(topic, "TagA", "marker".getBytes(StandardCharsets.UTF_8));
                marker.putUserProperty("marker", "yes");
                p.send(marker);
                Env.waitFor(Env.DELIVERY_MS, () -> got.contains("marker"));
                DefaultMQPushConsumer bad = consumer(env, "CJSqlBad", topic, "a > 1 AND", got);
                try {
                    bad.start();
                } catch (MQClientException e) {
                    badRefused = true;
                    badError = String.valueOf(e.getMessage());
                } finally {
                    bad.shutdown();
                }
            } finally {
                c.shutdown();
                p.shutdown();
            }
            Set<String> want = Set.of("eu3", "eu4", "eu5", "marker");
            return new Outcome().count("received", got.size())
                    .expect(got.equals(want), "received " + got + ", want " + want)
                    .expect(badRefused, "a malformed selector did not fail start()")
                    .expect(!badRefused || badError.contains("column"),
                            "the refusal does not name the column: " + badError);
        }
    }
}
