package rmq.interop;

import java.nio.charset.StandardCharsets;

import org.apache.rocketmq.acl.common.AclClientRPCHook;
import org.apache.rocketmq.acl.common.SessionCredentials;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.consumer.rebalance.AllocateMessageQueueAveragely;
import org.apache.rocketmq.client.exception.MQBrokerException;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.remoting.RPCHook;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * ACL 1.0: the official client signing with {@code AclClientRPCHook} (rocketmq-acl) against a
 * broker with {@code aclEnable=true} and the accounts {@code .ci/java-acl.sh} writes:
 * {@code rmqadmin} (admin), {@code javaprod} (PUB on every topic) and {@code javasub} (SUB on
 * every topic and group).
 */
public final class AclChecks {
    private AclChecks() {}

    static RPCHook hook(String accessKey, String secretKey) {
        return new AclClientRPCHook(new SessionCredentials(accessKey, secretKey));
    }

    static DefaultMQAdminExt admin(Env env, RPCHook hook) throws Exception {
        DefaultMQAdminExt a = hook == null ? new DefaultMQAdminExt() : new DefaultMQAdminExt(hook);
        a.setNamesrvAddr(env.namesrv);
        a.setInstanceName("acl-admin-" + System.nanoTime());
        a.start();
        return a;
    }

    static DefaultMQProducer producer(Env env, String group, RPCHook hook) throws Exception {
        DefaultMQProducer p = new DefaultMQProducer(env.group(group), hook);
        p.setNamesrvAddr(env.namesrv);
        p.setInstanceName("acl-p-" + group + "-" + System.nanoTime());
        p.setRetryTimesWhenSendFailed(0);
        p.start();
        return p;
    }

    static void create(DefaultMQAdminExt a, Env env, String topic) throws Exception {
        org.apache.rocketmq.common.TopicConfig tc = new org.apache.rocketmq.common.TopicConfig(topic);
        tc.setReadQueueNums(4);
        tc.setWriteQueueNums(4);
        for (String addr : org.apache.rocketmq.tools.command.CommandUtil
                .fetchMasterAddrByClusterName(a, env.cluster)) {
            a.createAndUpdateTopicConfig(addr, tc);
        }
    }

    /** The response code of a refusal, wherever the client put it, and the text of the chain. */
    static String refusal(Throwable t) {
        StringBuilder text = new StringBuilder();
        int code = -1;
        for (Throwable e = t; e != null; e = e.getCause()) {
            if (e instanceof MQBrokerException) code = ((MQBrokerException) e).getResponseCode();
            if (e instanceof MQClientException && code < 0) code = ((MQClientException) e).getResponseCode();
            text.append(' ').append(e.getMessage());
        }
        return "code=" + code + text;
    }

    static Message msg(String topic, int i) {
        return new Message(topic, "TagA", ("acl-" + i).getBytes(StandardCharsets.UTF_8));
    }

    static final class Plain implements Check {
        public String name() { return "acl-plain"; }

        public Outcome run(Env env) throws Exception {
            Outcome o = new Outcome();
            String topic = env.topic("JAcl");

            DefaultMQAdminExt anonymous = admin(env, null);
            try {
                create(anonymous, env, topic);
                o.expect(false, "an unsigned topic creation was accepted");
            } catch (Exception e) {
                String r = refusal(e);
                o.expect(r.startsWith("code=16") && r.contains("AccessKey"), "unsigned creation: " + r);
            } finally {
                anonymous.shutdown();
            }
            DefaultMQAdminExt admin = admin(env, hook("rmqadmin", "admin-secret"));
            try {
                create(admin, env, topic);
                boolean routed = Env.waitFor(10_000, () -> {
                    try {
                        return !admin.examineTopicRouteInfo(topic).getQueueDatas().isEmpty();
                    } catch (Exception e) {
                        return false;
                    }
                });
                o.expect(routed, "no route for " + topic + " after the admin account created it");
            } finally {
                admin.shutdown();
            }

            int n = 20;
            long ok = 0;
            DefaultMQProducer p = producer(env, "PJAcl", hook("javaprod", "prod-secret"));
            try {
                for (int i = 0; i < n; i++) {
                    SendResult r = p.send(msg(topic, i));
                    if (r.getSendStatus() == SendStatus.SEND_OK) ok++;
                }
            } finally {
                p.shutdown();
            }
            o.count("SEND_OK", ok).expectEq("SEND_OK signed by javaprod", n, ok);

            String[][] refused = {
                {"wrong secret", "javaprod", "not-the-secret", "signature"},
                {"no PUB", "javasub", "sub-secret", "javasub"},
                {"unknown account", "nobody12", "whatever", "nobody12"},
            };
            for (String[] r : refused) {
                DefaultMQProducer bad = producer(env, "PJAclBad", hook(r[1], r[2]));
                try {
                    bad.send(msg(topic, -1));
                    o.expect(false, r[0] + ": the send was accepted");
                } catch (Exception e) {
                    String text = refusal(e);
                    o.expect(text.startsWith("code=16") && text.contains(r[3]), r[0] + ": " + text);
                } finally {
                    bad.shutdown();
                }
            }

            Collector sink = Collector.anyTag();
            DefaultMQPushConsumer c = new DefaultMQPushConsumer(env.group("CJAcl"),
                    hook("javasub", "sub-secret"), new AllocateMessageQueueAveragely());
            c.setNamesrvAddr(env.namesrv);
            c.setInstanceName("acl-c-" + System.nanoTime());
            c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
            c.subscribe(topic, "*");
            c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
                sink.add(msgs);
                return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            });
            c.start();
            try {
                Env.waitFor(Env.DELIVERY_MS, () -> sink.received.get() >= n);
            } finally {
                c.shutdown();
            }
            return o.count("received", sink.received.get())
                    .expectEq("received by javasub", n, sink.received.get());
        }
    }
}
