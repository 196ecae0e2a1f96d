package rmq.interop;

import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/** Builds the official clients the way an application would, pointed at {@link Env}. */
public final class Clients {
    private Clients() {}

    public static DefaultMQProducer producer(Env env, String group) throws Exception {
        DefaultMQProducer p = new DefaultMQProducer(env.group(group));
        p.setNamesrvAddr(env.namesrv);
        p.setInstanceName("p-" + group + "-" + System.nanoTime());
        p.start();
        return p;
    }

    /** A concurrent push consumer from the first offset feeding {@code sink}; not started. */
    public static DefaultMQPushConsumer push(Env env, String group, String topic, String expr,
            Collector sink) throws Exception {
        DefaultMQPushConsumer c = new DefaultMQPushConsumer(env.group(group));
        c.setNamesrvAddr(env.namesrv);
        c.setInstanceName("c-" + group + "-" + System.nanoTime());
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.subscribe(topic, expr);
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            sink.add(msgs);
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        return c;
    }

    public static DefaultMQAdminExt admin(Env env) throws Exception {
        DefaultMQAdminExt a = new DefaultMQAdminExt();
        a.setNamesrvAddr(env.namesrv);
        a.setInstanceName("admin-" + System.nanoTime());
        a.start();
        return a;
    }

    /** Creates {@code topic} with {@code queues} queues on every broker of the cluster and
     * waits until the name server routes it. */
    public static void createTopic(Env env, String topic, int queues) throws Exception {
        DefaultMQAdminExt a = admin(env);
        try {
            org.apache.rocketmq.common.TopicConfig tc = new org.apache.rocketmq.common.TopicConfig(topic);
            tc.setReadQueueNums(queues);
            tc.setWriteQueueNums(queues);
            for (String addr : org.apache.rocketmq.tools.command.CommandUtil
                    .fetchMasterAddrByClusterName(a, env.cluster)) {
                a.createAndUpdateTopicConfig(addr, tc);
            }
            boolean routed = Env.waitFor(10_000, () -> {
                try {
                    return !a.examineTopicRouteInfo(topic).getQueueDatas().isEmpty();
                } catch (Exception e) {
                    return false;
                }
            });
            if (!routed) throw new IllegalStateException("no route for " + topic + " after 10 s");
        } finally {
            a.shutdown();
        }
    }
}
