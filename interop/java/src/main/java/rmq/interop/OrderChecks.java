package rmq.interop;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeOrderlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerOrderly;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.MessageQueueSelector;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageQueue;

/** Ordered messages: a selector by key, an orderly consumer, a second member joining. */
public final class OrderChecks {
    private OrderChecks() {}

    static DefaultMQPushConsumer orderly(Env env, String group, String topic, Collector sink) throws Exception {
        DefaultMQPushConsumer c = new DefaultMQPushConsumer(env.group(group));
        c.setNamesrvAddr(env.namesrv);
        c.setInstanceName("o-" + System.nanoTime());
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.subscribe(topic, "*");
        c.registerMessageListener((MessageListenerOrderly) (msgs, ctx) -> {
            sink.add(msgs);
            return ConsumeOrderlyStatus.SUCCESS;
        });
        return c;
    }

    static final class Selector implements Check {
        public String name() { return "orderly-selector-second-member"; }

        public Outcome run(Env env) throws Exception {
            String topic = env.topic("JOrder");
            Clients.createTopic(env, topic, 4);
            DefaultMQProducer p = Clients.producer(env, "PJOrder");
            MessageQueueSelector byKey = (List<MessageQueue> mqs, Message m, Object arg) ->
                    mqs.get(Math.floorMod(arg.hashCode(), mqs.size()));
            int keys = 8;
            int perKey = 50;
            Collector sink = Collector.anyTag();
            DefaultMQPushConsumer first = orderly(env, "CJOrder", topic, sink);
            DefaultMQPushConsumer second = null;
            long ok = 0;
            try {
                first.start();
                for (int s = 0; s < perKey; s++) {
                    if (s == perKey / 2) {
                        // A second member joins half way: queues move, order must hold.
                        second = orderly(env, "CJOrder", topic, sink);
                        second.start();
                    }
                    for (int k = 0; k < keys; k++) {
                        String key = "k" + k;
                        Message m = new Message(topic, "TagA", (key + ":" + s).getBytes(StandardCharsets.UTF_8));
                        m.putUserProperty("orderKey", key);
                        m.putUserProperty("seq", Integer.toString(s));
                        if (p.send(m, byKey, key).getSendStatus() == org.apache.rocketmq.client.producer.SendStatus.SEND_OK) ok++;
                    }
                }
                Env.waitFor(Env.DELIVERY_MS, () -> sink.received.get() >= keys * perKey);
            } finally {
                p.shutdown();
                first.shutdown();
                if (second != null) second.shutdown();
            }
            Outcome o = new Outcome().expectEq("SEND_OK", keys * perKey, ok);
            return sink.report(o, keys * perKey).expectEq("received", keys * perKey, sink.received.get());
        }
    }
}
