package rmq.interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.RequestCallback;
import org.apache.rocketmq.client.utils.MessageUtil;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

/** Request-reply: DefaultMQProducer.request answered by a responder that consumes the request
 * and sends MessageUtil.createReplyMessage (the broker pushes the reply to the requester). */
public final class RequestReplyChecks {
    private RequestReplyChecks() {}

    static String body(Message m) {
        return new String(m.getBody(), StandardCharsets.UTF_8);
    }

    /** A responder: consumes {@code topic} from the first offset and answers "re:" + body. */
    static DefaultMQPushConsumer responder(Env env, String topic, DefaultMQProducer replies)
            throws Exception {
        DefaultMQPushConsumer c = new DefaultMQPushConsumer(env.group("CJResp"));
        c.setNamesrvAddr(env.namesrv);
        c.setInstanceName("resp-" + System.nanoTime());
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.subscribe(topic, "*");
        c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                try {
                    Message reply = MessageUtil.createReplyMessage(m,
                            ("re:" + body(m)).getBytes(StandardCharsets.UTF_8));
                    replies.send(reply);
                } catch (Exception e) {
                    System.out.println("reply to " + body(m) + " failed: " + e);
                    return ConsumeConcurrentlyStatus.RECONSUME_LATER;
                }
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        return c;
    }

    static final class RequestReply implements Check {
        public String name() { return "request-reply"; }

        public Outcome run(Env env) throws Exception {
            String topic = env.topic("JReq");
            Clients.createTopic(env, topic, 2);
            DefaultMQProducer replies = Clients.producer(env, "PJResp");
            DefaultMQPushConsumer c = responder(env, topic, replies);
            DefaultMQProducer requester = Clients.producer(env, "PJReq");
            List<String> problems = new ArrayList<>();
            int answered = 0;
            String replyTopic = "";
            try {
                c.start();
                for (int i = 0; i < 5; i++) {
                    String q = "q" + i;
                    // The first request waits for the responder to start consuming as well.
                    long timeout = i == 0 ? Env.DELIVERY_MS : 10_000;
                    Message r = requester.request(new Message(topic, "TagA",
                            q.getBytes(StandardCharsets.UTF_8)), timeout);
                    if (r == null || !("re:" + q).equals(body(r))) {
                        problems.add("request " + q + " got " + (r == null ? "null" : body(r)));
                    } else {
                        answered++;
                        replyTopic = r.getTopic();
                    }
                }
                CompletableFuture<String> async = new CompletableFuture<>();
                requester.request(new Message(topic, "TagA", "qa".getBytes(StandardCharsets.UTF_8)),
                        new RequestCallback() {
                            public void onSuccess(Message m) { async.complete(body(m)); }
                            public void onException(Throwable e) { async.complete("error " + e); }
                        }, 10_000);
                String a = async.get(15, TimeUnit.SECONDS);
                if ("re:qa".equals(a)) {
                    answered++;
                } else {
                    problems.add("the callback request got " + a);
                }
            } finally {
                c.shutdown();
                requester.shutdown();
                replies.shutdown();
            }
            Outcome o = new Outcome().count("replies", answered);
            for (String p : problems) o.expect(false, p);
            return o.expectEq("replies", 6, answered)
                    .expect(replyTopic.endsWith("_REPLY_TOPIC"),
                            "the reply came on " + replyTopic + ", not the cluster's reply topic");
        }
    }
}
