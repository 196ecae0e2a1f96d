package rmq.interop;

import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.Set;

import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.TopicConfig;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;
import org.apache.rocketmq.tools.command.CommandUtil;

/** DefaultMQAdminExt, the API behind Apache's mqadmin and dashboard, against rmq. */
public final class AdminChecks {
    private AdminChecks() {}

    /** The one master address of the suite's single-broker cluster. */
    static String master(DefaultMQAdminExt a, Env env) throws Exception {
        Set<String> masters = CommandUtil.fetchMasterAddrByClusterName(a, env.cluster);
        if (masters.isEmpty()) throw new IllegalStateException("no master in cluster " + env.cluster);
        return masters.iterator().next();
    }

    /** Polls until the group's total backlog is 0 (20 s at most). */
    static boolean backlogZero(DefaultMQAdminExt a, String group) throws InterruptedException {
        return Env.waitFor(20_000, () -> {
            try {
                return a.examineConsumeStats(group).computeTotalDiff() == 0;
            } catch (Exception e) {
                return false;
            }
        });
    }

    /** Polls until the name server routes {@code topic} with {@code queues} write queues. */
    static boolean routedWithQueues(DefaultMQAdminExt a, String topic, int queues) throws InterruptedException {
        return Env.waitFor(10_000, () -> {
            try {
                return a.examineTopicRouteInfo(topic).getQueueDatas().get(0).getWriteQueueNums() == queues;
            } catch (Exception e) {
                return false;
            }
        });
    }

    static final class ClusterAndTopics implements Check {
        public String name() { return "admin-cluster-topic-crud"; }

        public Outcome run(Env env) throws Exception {
            DefaultMQAdminExt a = Clients.admin(env);
            Outcome o = new Outcome();
            try {
                var info = a.examineBrokerClusterInfo();
                o.count("brokers", info.getBrokerAddrTable().size())
                        .expect(info.getClusterAddrTable().containsKey(env.cluster), "cluster " + env.cluster + " missing");
                String addr = master(a, env);
                String topic = env.topic("JAdminTopic");
                TopicConfig tc = new TopicConfig(topic);
                tc.setReadQueueNums(3);
                tc.setWriteQueueNums(3);
                a.createAndUpdateTopicConfig(addr, tc);
                o.expect(routedWithQueues(a, topic, 3), "route of the new topic does not show 3 queues");
                o.expect(a.fetchAllTopicList().getTopicList().contains(topic), "topic list lacks " + topic);
                // Update: 5 queues.
                tc.setReadQueueNums(5);
                tc.setWriteQueueNums(5);
                a.createAndUpdateTopicConfig(addr, tc);
                o.expect(routedWithQueues(a, topic, 5), "update to 5 queues not routed");
                var stats = a.examineTopicStats(topic);
                o.expectEq("topic stats queues", 5, stats.getOffsetTable().size());
                // Delete from broker and name server.
                a.deleteTopicInBroker(Set.of(addr), topic);
                Compat.deleteTopicInNameServer(a, new java.util.HashSet<>(a.getNameServerAddressList()), env.cluster, topic);
                o.expect(Env.waitFor(10_000, () -> {
                    try {
                        return !a.fetchAllTopicList().getTopicList().contains(topic);
                    } catch (Exception e) {
                        return false;
                    }
                }), "deleted topic still listed");
            } finally {
                a.shutdown();
            }
            return o;
        }
    }

    static final class Groups implements Check {
        public String name() { return "admin-subscription-groups"; }

        public Outcome run(Env env) throws Exception {
            DefaultMQAdminExt a = Clients.admin(env);
            Outcome o = new Outcome();
            try {
                String addr = master(a, env);
                String group = env.group("CJAdminGroup");
                Compat.createGroup(a, addr, group, 5);
                int retryMax = Compat.groupRetryMaxTimes(a, addr, group);
                o.expectEq("group retryMaxTimes read back", 5, retryMax);
                a.deleteSubscriptionGroup(addr, group);
                o.expect(!Compat.groupListed(a, addr, group), "deleted group still listed");
            } finally {
                a.shutdown();
            }
            return o;
        }
    }

    /** Consume stats, consumer connections and running info of a live group. */
    static final class LiveGroup implements Check {
        public String name() { return "admin-consume-stats-connections"; }

        public Outcome run(Env env) throws Exception {
            String topic = env.topic("JAdminLive");
            String group = env.group("CJAdminLive");
            Clients.createTopic(env, topic, 2);
            ConsumerChecks.send(env, topic, "TagA", 0, 10);
            Collector sink = Collector.anyTag();
            DefaultMQPushConsumer c = Clients.push(env, "CJAdminLive", topic, "*", sink);
            DefaultMQAdminExt a = Clients.admin(env);
            Outcome o = new Outcome();
            try {
                c.start();
                Env.waitFor(Env.DELIVERY_MS, () -> sink.received.get() >= 10);
                o.expect(backlogZero(a, group), "backlog did not reach 0");
                var stats = a.examineConsumeStats(group);
                // The group's %RETRY% queue is in the stats too when the broker has one (Apache
                // 4.9.7 lists it, 5.5.0 does not): count the topic's own queues.
                long queues = stats.getOffsetTable().keySet().stream().filter(mq -> topic.equals(mq.getTopic())).count();
                o.count("queues", queues).expectEq("consume stats queues of the topic", 2, queues);
                var conn = a.examineConsumerConnectionInfo(group);
                o.expectEq("consumer connections", 1, conn.getConnectionSet().size());
                String clientId = conn.getConnectionSet().iterator().next().getClientId();
                var running = a.getConsumerRunningInfo(group, clientId, false);
                o.expect(running != null && !running.getMqTable().isEmpty(), "no running info from " + clientId);
            } finally {
                c.shutdown();
                a.shutdown();
            }
            return o;
        }
    }

    static final class ProducerConnections implements Check {
        public String name() { return "admin-producer-connections"; }

        public Outcome run(Env env) throws Exception {
            String topic = env.topic("JAdminProd");
            Clients.createTopic(env, topic, 1);
            // A broker learns of a producer from its heartbeats. The 4.x client sends none when it
            // first finds a topic's broker (5.x does), so Apache's broker knows it only after the
            // next periodic heartbeat: make those every second, as the check polls for facts.
            DefaultMQProducer p = new DefaultMQProducer(env.group("PJAdminProd"));
            p.setNamesrvAddr(env.namesrv);
            p.setInstanceName("p-PJAdminProd-" + System.nanoTime());
            p.setHeartbeatBrokerInterval(1000);
            p.start();
            DefaultMQAdminExt a = Clients.admin(env);
            Outcome o = new Outcome();
            try {
                p.send(new Message(topic, "x".getBytes(StandardCharsets.UTF_8)));
                int[] seen = {-1};
                Env.waitFor(10_000, () -> {
                    try {
                        seen[0] = a.examineProducerConnectionInfo(env.group("PJAdminProd"), topic).getConnectionSet().size();
                    } catch (Exception e) {
                        return false; // Apache answers "the producer group not exist" until then
                    }
                    return seen[0] == 1;
                });
                o.expectEq("producer connections", 1, seen[0]);
            } finally {
                p.shutdown();
                a.shutdown();
            }
            return o;
        }
    }

    /** Messages found by key and viewed by id, as mqadmin queryMsgByKey/queryMsgById do. */
    static final class QueryMessages implements Check {
        public String name() { return "admin-query-by-key-and-id"; }

        public Outcome run(Env env) throws Exception {
            String topic = env.topic("JAdminQuery");
            Clients.createTopic(env, topic, 2);
            DefaultMQProducer p = Clients.producer(env, "PJAdminQuery");
            DefaultMQAdminExt a = Clients.admin(env);
            Outcome o = new Outcome();
            try {
                SendResult r = p.send(new Message(topic, "TagA", "order-42", "payload".getBytes(StandardCharsets.UTF_8)));
                o.expect(Env.waitFor(10_000, () -> {
                    try {
                        return a.queryMessage(topic, "order-42", 32, 0, Long.MAX_VALUE).getMessageList().size() == 1;
                    } catch (Exception e) {
                        return false;
                    }
                }), "queryMessage by key did not find the message");
                MessageExt byId = a.viewMessage(topic, r.getMsgId());
                o.expect(byId != null && "payload".equals(new String(byId.getBody(), StandardCharsets.UTF_8)), "viewMessage by unique id");
                MessageExt byOffsetId = a.viewMessage(topic, r.getOffsetMsgId());
                o.expect(byOffsetId != null && "order-42".equals(byOffsetId.getKeys()), "viewMessage by offset id");
            } finally {
                p.shutdown();
                a.shutdown();
            }
            return o;
        }
    }

    /** resetOffsetByTime while the group runs: the broker tells the live client. */
    static final class ResetOffset implements Check {
        public String name() { return "admin-reset-offset-live"; }

        public Outcome run(Env env) throws Exception {
            String topic = env.topic("JAdminReset");
            String group = env.group("CJAdminReset");
            Clients.createTopic(env, topic, 2);
            ConsumerChecks.send(env, topic, "TagA", 0, 10);
            Collector sink = Collector.anyTag();
            DefaultMQPushConsumer c = Clients.push(env, "CJAdminReset", topic, "*", sink);
            DefaultMQAdminExt a = Clients.admin(env);
            Outcome o = new Outcome();
            try {
                c.start();
                Env.waitFor(Env.DELIVERY_MS, () -> sink.received.get() >= 10);
                o.expect(backlogZero(a, group), "backlog did not reach 0");
                // Back to the beginning: the live consumer receives all 10 again.
                a.resetOffsetByTimestamp(topic, group, 0, true);
                o.expect(Env.waitFor(Env.DELIVERY_MS, () -> sink.duplicates.get() >= 10), "reset did not redeliver (duplicates=" + sink.duplicates.get() + ")");
                o.count("redelivered", sink.duplicates.get());
            } finally {
                c.shutdown();
                a.shutdown();
            }
            return o;
        }
    }

    static final class BrokerRuntimeAndConfig implements Check {
        public String name() { return "admin-broker-runtime-and-config"; }

        public Outcome run(Env env) throws Exception {
            DefaultMQAdminExt a = Clients.admin(env);
            Outcome o = new Outcome();
            try {
                String addr = master(a, env);
                var kv = a.fetchBrokerRuntimeStats(addr);
                o.expect(kv.getTable().containsKey("msgPutTotalTodayNow"), "runtime stats lack msgPutTotalTodayNow");
                o.expect(kv.getTable().containsKey("putTps"), "runtime stats lack putTps");
                Properties cfg = a.getBrokerConfig(addr);
                o.expect("broker-a".equals(cfg.getProperty("brokerName")), "getBrokerConfig brokerName=" + cfg.getProperty("brokerName"));
                Properties change = new Properties();
                change.setProperty("maxMessageSize", "65537");
                a.updateBrokerConfig(addr, change);
                o.expect("65537".equals(a.getBrokerConfig(addr).getProperty("maxMessageSize")), "updateBrokerConfig not applied");
                change.setProperty("maxMessageSize", "65536");
                a.updateBrokerConfig(addr, change);
            } finally {
                a.shutdown();
            }
            return o;
        }
    }

    static final class KvConfig implements Check {
        public String name() { return "admin-kv-config"; }

        public Outcome run(Env env) throws Exception {
            DefaultMQAdminExt a = Clients.admin(env);
            Outcome o = new Outcome();
            try {
                String ns = "JAVA_NS_" + env.run;
                a.createAndUpdateKvConfig(ns, "k1", "v1");
                o.expect("v1".equals(a.getKVConfig(ns, "k1")), "getKVConfig");
                var list = a.getKVListByNamespace(ns);
                o.expect(list.getTable().containsKey("k1"), "getKVListByNamespace lacks k1");
                a.deleteKvConfig(ns, "k1");
                boolean gone;
                try {
                    gone = a.getKVConfig(ns, "k1") == null;
                } catch (Exception e) {
                    gone = true; // Apache answers QUERY_NOT_FOUND, which the client throws
                }
                o.expect(gone, "deleted KV still readable");
            } finally {
                a.shutdown();
            }
            return o;
        }
    }
}
