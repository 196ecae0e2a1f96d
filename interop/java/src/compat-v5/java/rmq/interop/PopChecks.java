package rmq.interop;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.apache.rocketmq.client.consumer.AckCallback;
import org.apache.rocketmq.client.consumer.AckResult;
import org.apache.rocketmq.client.consumer.AckStatus;
import org.apache.rocketmq.client.consumer.PopCallback;
import org.apache.rocketmq.client.consumer.PopResult;
import org.apache.rocketmq.client.consumer.PopStatus;
import org.apache.rocketmq.client.impl.MQClientAPIImpl;
import org.apache.rocketmq.client.impl.factory.MQClientInstance;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.constant.ConsumeInitMode;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageConst;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.remoting.protocol.RemotingCommand;
import org.apache.rocketmq.remoting.protocol.RequestCode;
import org.apache.rocketmq.remoting.protocol.ResponseCode;
import org.apache.rocketmq.remoting.protocol.header.ChangeInvisibleTimeRequestHeader;
import org.apache.rocketmq.remoting.protocol.header.ExtraInfoUtil;
import org.apache.rocketmq.remoting.protocol.header.NotificationRequestHeader;
import org.apache.rocketmq.remoting.protocol.header.NotificationResponseHeader;
import org.apache.rocketmq.remoting.protocol.header.PopMessageRequestHeader;

/**
 * POP over remoting with the 5.x client's own protocol code (MQClientAPIImpl, as its POP push
 * consumer and Apache's proxy call it): POP_MESSAGE with a tag filter, the receipt handles the
 * client builds (POP_CK), CHANGE_MESSAGE_INVISIBLETIME making one message visible again, its
 * redelivery from the retry topic, one BATCH_ACK_MESSAGE for everything (the client's BitSet
 * encoding), and NOTIFICATION before and after a send.
 */
final class PopChecks {
    private PopChecks() {}

    static List<Check> all() {
        return List.of(new Remoting());
    }

    static final class Remoting implements Check {
        public String name() { return "pop-remoting"; }

        public Outcome run(Env env) throws Exception {
            String topic = env.topic("JPop");
            String group = env.group("CJPop");
            Clients.createTopic(env, topic, 2);
            Outcome o = new Outcome();
            DefaultMQProducer p = Clients.producer(env, "PJPop");
            try {
                SendResult first = null;
                for (int i = 0; i < 4; i++) {
                    SendResult r = p.send(new Message(topic, "TagA", ("pop-" + i).getBytes(StandardCharsets.UTF_8)));
                    if (first == null) first = r;
                }
                p.send(new Message(topic, "TagB", "decoy".getBytes(StandardCharsets.UTF_8)));
                MQClientInstance factory = p.getDefaultMQProducerImpl().getMqClientFactory();
                String brokerName = first.getMessageQueue().getBrokerName();
                String addr = factory.findBrokerAddressInPublish(brokerName);
                MQClientAPIImpl api = factory.getMQClientAPIImpl();

                o.expect(notification(api, addr, topic, group, 0), "NOTIFICATION said no message before any pop");
                Map<String, MessageExt> got = popUntil(api, brokerName, addr, topic, group, 4, o);
                o.count("popped", got.size());
                o.expect(got.values().stream().allMatch(m -> "TagA".equals(m.getTags())), "a TagB message passed the TagA filter");
                o.expect(!notification(api, addr, topic, group, 0), "NOTIFICATION said there were messages after all were popped");

                // pop-0 visible again now: it comes back from the retry topic, reconsumed once.
                MessageExt zero = got.get("pop-0");
                if (zero == null) return o.expect(false, "pop-0 was not popped: " + got.keySet());
                String ck = zero.getProperty(MessageConst.PROPERTY_POP_CK);
                ChangeInvisibleTimeRequestHeader ch = new ChangeInvisibleTimeRequestHeader();
                ch.setConsumerGroup(group);
                ch.setTopic(topic);
                ch.setQueueId(zero.getQueueId());
                ch.setExtraInfo(ck);
                ch.setOffset(zero.getQueueOffset());
                ch.setInvisibleTime(0L);
                CompletableFuture<AckResult> changed = new CompletableFuture<>();
                api.changeInvisibleTimeAsync(brokerName, addr, ch, 5000, callback(changed));
                AckResult cr = changed.get(10, TimeUnit.SECONDS);
                o.expect(cr.getStatus() == AckStatus.OK, "changeInvisibleTime: " + cr.getStatus());
                Map<String, MessageExt> again = popUntil(api, brokerName, addr, topic, group, 1, o);
                MessageExt back = again.get("pop-0");
                o.expect(back != null && back.getReconsumeTimes() == 1,
                        "pop-0 did not come back reconsumed once: " + again.keySet());

                // One batch ack for the other three and the redelivered pop-0.
                List<String> handles = new ArrayList<>();
                for (MessageExt m : got.values()) {
                    if (m != zero) handles.add(m.getProperty(MessageConst.PROPERTY_POP_CK));
                }
                if (back != null) handles.add(back.getProperty(MessageConst.PROPERTY_POP_CK));
                CompletableFuture<AckResult> acked = new CompletableFuture<>();
                api.batchAckMessageAsync(addr, 5000, callback(acked), topic, group, handles);
                AckResult ar = acked.get(10, TimeUnit.SECONDS);
                o.expect(ar.getStatus() == AckStatus.OK, "batch ack: " + ar.getStatus());
                o.count("batchAcked", handles.size());
                // Each is settled: moving one's invisible time now is refused.
                ch.setExtraInfo(handles.get(0));
                String[] f = ExtraInfoUtil.split(handles.get(0));
                ch.setQueueId(ExtraInfoUtil.getQueueId(f));
                ch.setOffset(ExtraInfoUtil.getQueueOffset(f));
                ch.setInvisibleTime(60_000L);
                CompletableFuture<AckResult> late = new CompletableFuture<>();
                api.changeInvisibleTimeAsync(brokerName, addr, ch, 5000, callback(late));
                boolean refused;
                try {
                    refused = late.get(10, TimeUnit.SECONDS).getStatus() != AckStatus.OK;
                } catch (Exception e) {
                    refused = true;
                }
                o.expect(refused, "a batch-acked message was still in flight");

                // A new message: announced, then popped.
                p.send(new Message(topic, "TagA", "pop-late".getBytes(StandardCharsets.UTF_8)));
                o.expect(notification(api, addr, topic, group, 5000), "NOTIFICATION missed a new message");
                Map<String, MessageExt> late2 = popUntil(api, brokerName, addr, topic, group, 1, o);
                o.expect(late2.containsKey("pop-late"), "pop-late was not popped: " + late2.keySet());
            } finally {
                p.shutdown();
            }
            return o;
        }
    }

    static AckCallback callback(CompletableFuture<AckResult> f) {
        return new AckCallback() {
            public void onSuccess(AckResult r) { f.complete(r); }
            public void onException(Throwable e) { f.completeExceptionally(e); }
        };
    }

    /** Pops (5 s polls, 60 s invisible, TagA) until {@code want} messages arrived or 30 s pass. */
    static Map<String, MessageExt> popUntil(MQClientAPIImpl api, String brokerName, String addr, String topic,
            String group, int want, Outcome o) throws Exception {
        Map<String, MessageExt> got = new HashMap<>();
        long deadline = System.currentTimeMillis() + 30_000;
        while (got.size() < want && System.currentTimeMillis() < deadline) {
            PopMessageRequestHeader h = new PopMessageRequestHeader();
            h.setConsumerGroup(group);
            h.setTopic(topic);
            h.setQueueId(-1);
            h.setMaxMsgNums(32);
            h.setInvisibleTime(60_000L);
            h.setPollTime(5_000L);
            h.setBornTime(System.currentTimeMillis());
            h.setInitMode(ConsumeInitMode.MIN);
            h.setExpType("TAG");
            h.setExp("TagA");
            h.setOrder(false);
            CompletableFuture<PopResult> f = new CompletableFuture<>();
            api.popMessageAsync(brokerName, addr, h, 10_000, new PopCallback() {
                public void onSuccess(PopResult r) { f.complete(r); }
                public void onException(Throwable e) { f.completeExceptionally(e); }
            });
            PopResult r = f.get(15, TimeUnit.SECONDS);
            if (r.getPopStatus() != PopStatus.FOUND) continue;
            for (MessageExt m : r.getMsgFoundList()) {
                String body = new String(m.getBody(), StandardCharsets.UTF_8);
                if (m.getProperty(MessageConst.PROPERTY_POP_CK) == null) o.expect(false, body + " has no POP_CK");
                got.put(body, m);
            }
        }
        return got;
    }

    static boolean notification(MQClientAPIImpl api, String addr, String topic, String group, long pollMs)
            throws Exception {
        NotificationRequestHeader h = new NotificationRequestHeader();
        h.setConsumerGroup(group);
        h.setTopic(topic);
        h.setQueueId(-1);
        h.setPollTime(pollMs);
        h.setBornTime(System.currentTimeMillis());
        RemotingCommand req = RemotingCommand.createRequestCommand(RequestCode.NOTIFICATION, h);
        RemotingCommand resp = api.getRemotingClient().invokeSync(addr, req, pollMs + 5_000);
        if (resp.getCode() != ResponseCode.SUCCESS) {
            throw new IllegalStateException("NOTIFICATION answered " + resp.getCode() + ": " + resp.getRemark());
        }
        NotificationResponseHeader rh = (NotificationResponseHeader) resp.decodeCommandCustomHeader(NotificationResponseHeader.class);
        return rh.isHasMsg();
    }
}
