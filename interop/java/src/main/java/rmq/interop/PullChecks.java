package rmq.interop;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import org.apache.rocketmq.client.consumer.DefaultLitePullConsumer;
import org.apache.rocketmq.client.consumer.DefaultMQPullConsumer;
import org.apache.rocketmq.client.consumer.PullResult;
import org.apache.rocketmq.client.consumer.PullStatus;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;

/** DefaultLitePullConsumer (subscribe and assign, seek, commit) and DefaultMQPullConsumer. */
public final class PullChecks {
    private PullChecks() {}

    static DefaultLitePullConsumer lite(Env env, String group) {
        DefaultLitePullConsumer c = new DefaultLitePullConsumer(env.group(group));
        c.setNamesrvAddr(env.namesrv);
        c.setInstanceName("l-" + System.nanoTime());
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.setAutoCommit(false);
        return c;
    }

    /** Polls until {@code want} distinct messages arrived (or 30 s). */
    static Collector pollAll(DefaultLitePullConsumer c, long want) {
        Collector sink = Collector.anyTag();
        long deadline = System.currentTimeMillis() + 30_000;
        while (sink.received.get() < want && System.currentTimeMillis() < deadline) {
            sink.add(c.poll(500));
        }
        return sink;
    }

    static final class LiteSubscribe implements Check {
        public String name() { return "lite-pull-subscribe-commit"; }

        public Outcome run(Env env) throws Exception {
            String topic = env.topic("JLite");
            Clients.createTopic(env, topic, 4);
            ConsumerChecks.send(env, topic, "TagA", 0, 40);
            DefaultLitePullConsumer c = lite(env, "CJLite");
            c.subscribe(topic, "*");
            c.start();
            Collector first;
            try {
                first = pollAll(c, 40);
                c.commitSync();
            } finally {
                c.shutdown();
            }
            // A second member of the group after the commit sees only what came later.
            ConsumerChecks.send(env, topic, "TagB", 40, 8);
            DefaultLitePullConsumer again = lite(env, "CJLite");
            again.subscribe(topic, "*");
            again.start();
            Collector second;
            try {
                second = pollAll(again, 8);
            } finally {
                again.shutdown();
            }
            long old = second.messages().stream().filter(m -> "TagA".equals(m.getTags())).count();
            Outcome o = first.report(new Outcome(), 48).expectEq("first poll received", 40, first.received.get());
            return o.count("afterCommit", second.received.get())
                    .expectEq("after commit received", 8, second.received.get())
                    .expectEq("committed messages seen again", 0, old);
        }
    }

    static final class LiteAssignSeek implements Check {
        public String name() { return "lite-pull-assign-seek"; }

        public Outcome run(Env env) throws Exception {
            String topic = env.topic("JSeek");
            Clients.createTopic(env, topic, 2);
            ConsumerChecks.send(env, topic, "TagA", 0, 20);
            DefaultLitePullConsumer c = lite(env, "CJSeek");
            c.start();
            Outcome o = new Outcome();
            try {
                Collection<MessageQueue> mqs = c.fetchMessageQueues(topic);
                c.assign(mqs);
                Collector all = pollAll(c, 20);
                all.report(o, 20).expectEq("assigned poll received", 20, all.received.get());
                // Seek every queue back to offset 5: exactly the rest comes again.
                long expectAgain = 0;
                for (MessageQueue mq : mqs) {
                    long max = all.messages().stream().filter(m -> m.getQueueId() == mq.getQueueId()).count();
                    expectAgain += Math.max(0, max - 5);
                    c.seek(mq, 5);
                }
                Collector again = pollAll(c, expectAgain);
                long minOffset = again.messages().stream().mapToLong(MessageExt::getQueueOffset).min().orElse(-1);
                o.count("afterSeek", again.received.get())
                        .expectEq("received after seek to 5", expectAgain, again.received.get())
                        .expectEq("lowest offset after seek", 5, minOffset);
            } finally {
                c.shutdown();
            }
            return o;
        }
    }

    static final class PullConsumer implements Check {
        public String name() { return "pull-consumer-offsets"; }

        public Outcome run(Env env) throws Exception {
            String topic = env.topic("JPull");
            Clients.createTopic(env, topic, 2);
            ConsumerChecks.send(env, topic, "TagA", 0, 30);
            DefaultMQPullConsumer c = new DefaultMQPullConsumer(env.group("CJPull"));
            c.setNamesrvAddr(env.namesrv);
            c.setInstanceName("pl-" + System.nanoTime());
            c.start();
            Collector sink = Collector.anyTag();
            Outcome o = new Outcome();
            try {
                List<MessageQueue> mqs = new ArrayList<>(c.fetchSubscribeMessageQueues(topic));
                for (MessageQueue mq : mqs) {
                    long offset = 0;
                    while (true) {
                        PullResult r = c.pullBlockIfNotFound(mq, "*", offset, 32);
                        if (r.getPullStatus() != PullStatus.FOUND) break;
                        sink.add(r.getMsgFoundList());
                        offset = r.getNextBeginOffset();
                        if (offset >= c.maxOffset(mq)) break;
                    }
                    c.updateConsumeOffset(mq, offset);
                }
                // Offsets reach the broker and read back (persist is oneway in 5.x: poll).
                for (MessageQueue mq : mqs) {
                    c.getOffsetStore().persist(mq);
                    long max = c.maxOffset(mq);
                    long[] stored = {-1};
                    Env.waitFor(5_000, () -> {
                        try {
                            stored[0] = c.fetchConsumeOffset(mq, true);
                        } catch (Exception e) {
                            return false;
                        }
                        return stored[0] == max;
                    });
                    o.expectEq("stored offset of queue " + mq.getQueueId(), max, stored[0]);
                }
            } finally {
                c.shutdown();
            }
            return sink.report(o, 30).expectEq("pulled", 30, sink.received.get());
        }
    }
}
